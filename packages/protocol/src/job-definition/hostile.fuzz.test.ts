import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseJobDefinition } from "./parse.ts";
import { compileJobPattern } from "./patterns.ts";
import { checkQemuJobArgs, QEMU_JOB_OPTIONS } from "./qemu-args.ts";
import { MASKED, redactDefinition } from "./redact.ts";
import { IMAGE_NAME_RE } from "./safety.ts";
import { DEMO_JOB } from "./testing.ts";

/**
 * Property-based fuzzing with hostile job definitions: names that want to become paths, QEMU
 * options that want the host, regexes that want to backtrack forever, huge and deeply nested
 * values, secrets that want to leak. `npm test` runs a short pass; `npm run fuzz` 10 000 cases.
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 200);
const TIMEOUT_MS = Math.max(30_000, RUNS * 30);
const demo = DEMO_JOB as any;

const pathy = fc.oneof(
  fc.string(),
  fc
    .array(fc.constantFrom("..", ".", "/", "a", "kernel", "\\", "%2e", "\0", "~", "-", "_", " ", "\n", "C:"), { maxLength: 8 })
    .map((a) => a.join("")),
);
const qemuWord = fc.oneof(
  fc.constantFrom(
    ...Object.keys(QEMU_JOB_OPTIONS),
    "-chardev",
    "-netdev",
    "-device",
    "-object",
    "-monitor",
    "-serial",
    "-fw_cfg",
    "-plugin",
    "--kernel",
    "--chardev",
    "-machine",
    "-L",
    "-drive",
  ),
  fc.constantFrom(
    "{kernel}",
    "{initrd}",
    "{nope}",
    "/etc/passwd",
    "file=/tmp/x",
    "file={kernel},format=raw",
    "file={kernel},,file=/etc/passwd,format=raw",
    "user,guestfwd=tcp:1.2.3.4:1-cmd:touch /tmp/x",
    "console=ttyS0",
    ";",
    "|",
    "$(id)",
    "`id`",
    "'a b'",
    '"c d"',
    "> /tmp/x",
    "*",
    "#",
  ),
  fc.string({ maxLength: 12 }),
);
const qemuArg = fc.array(qemuWord, { maxLength: 8 }).map((a) => a.join(" "));
const regexy = fc.oneof(
  fc
    .array(
      fc.constantFrom(
        "(",
        ")",
        "a",
        "+",
        "*",
        "?",
        "|",
        "\\1",
        "(?=",
        "(?!",
        "(?<=",
        "[",
        "]",
        "{2,}",
        "$",
        "^",
        ".",
        "\\",
        "#",
        " ",
        "(?P<x>",
        "\\k<x>",
      ),
      { maxLength: 12 },
    )
    .map((a) => a.join("")),
  fc.string({ maxLength: 20 }),
);

/** Text that makes backtracking engines explode on the patterns above. */
const HOSTILE_TEXT = "a".repeat(20_000) + "!" + "<LAVA_SIGNAL_".repeat(500);

describe("hostile job definitions (property-based)", () => {
  it("path names, QEMU options and prompts: refused with a YAML path, or accepted only when safe", { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(pathy, qemuArg, fc.array(regexy, { minLength: 1, maxLength: 3 }), (name, arg, prompts) => {
        const d = structuredClone(demo);
        d.actions[0].deploy.images[name] = { url: "http://127.0.0.1:4100/vmlinuz", image_arg: arg };
        d.actions[1].boot.prompts = prompts;
        let text: string;
        try {
          text = stringify(d);
        } catch {
          return;
        }
        const r = parseJobDefinition(text);
        if (!r.ok) {
          for (const e of r.errors) expect(e.path).toMatch(/^data/);
          return;
        }
        for (const [key, image] of Object.entries(
          (r.definition.actions[0] as any).deploy.images as Record<string, { image_arg?: string }>,
        )) {
          expect(key).toMatch(IMAGE_NAME_RE);
          expect(path.resolve("/job", key).startsWith("/job/")).toBe(true);
          if (image.image_arg !== undefined) expect(checkQemuJobArgs(image.image_arg).ok).toBe(true);
        }
        for (const p of (r.definition.actions[1] as any).boot.prompts as string[]) {
          const c = compileJobPattern(p);
          expect(c.ok).toBe(true);
          if (!c.ok) return;
          const t0 = performance.now();
          c.re.matcher(HOSTILE_TEXT).find();
          expect(performance.now() - t0).toBeLessThan(2000);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("huge and deeply nested values never throw, and pathological nesting is refused in milliseconds", { timeout: TIMEOUT_MS }, () => {
    for (const text of ["x: " + "[".repeat(200_000) + "]".repeat(200_000), "x: " + "{a: ".repeat(100_000), "- ".repeat(200_000) + "a"]) {
      const t0 = performance.now();
      const r = parseJobDefinition(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors[0]!.message).toMatch(/^YAML nesting deeper than 64 levels/);
      expect(redactDefinition(text)).toMatch(/^# definition hidden/);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 100_000 }), (depth, width) => {
        let nested: unknown = "x".repeat(width);
        for (let i = 0; i < depth; i++) nested = i % 2 ? [nested] : { k: nested };
        // JSON is YAML; built by JSON.stringify because the yaml stringifier itself recurses per level
        const text = JSON.stringify({ ...demo, context: { deep: nested } });
        const r = parseJobDefinition(text);
        if (!r.ok) for (const e of r.errors) expect(e.path).toMatch(/^data/);
        expect(typeof redactDefinition(text)).toBe("string");
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 10)) },
    );
  });

  it("no declared secret survives redaction, wherever else the job copies it", { timeout: TIMEOUT_MS }, () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9+/=_-]{6,40}$/).map((s) => `S3cr${s}`);
    fc.assert(
      fc.property(secret, secret, secret, secret, fc.boolean(), (s1, s2, s3, s4, copy) => {
        const d = structuredClone(demo);
        d.secrets = { API_KEY: s1 };
        d.actions[0].deploy.images.kernel.headers = { Authorization: `Bearer ${s2}` };
        d.actions[1].boot.auto_login = { login_prompt: "login:", username: "root", password: s3 };
        d.notify = { criteria: { status: "finished" }, callbacks: [{ url: "http://cb", token: s4 }] };
        if (copy) d.metadata = { copied: `x${s1}y`, header: `Bearer ${s2}` };
        const out = redactDefinition(stringify(d));
        for (const s of [s1, s2, s3, s4]) expect(out).not.toContain(s);
        expect(out).toContain(MASKED);
        expect(parseJobDefinition(out).ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
