import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { MAX_DEFINITION_BYTES, MAX_YAML_ALIASES, parseJobDefinition } from "./parse.ts";
import { DEMO_JOB, DEMO_JOB_TEXT } from "./testing.ts";

/**
 * Property-based fuzzing of the job-definition parser (issue 5). `npm test` runs a short pass;
 * `npm run fuzz` (root) runs 10 000 cases per property with MAGMA_FUZZ_RUNS=10000.
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 200);
const TIMEOUT_MS = Math.max(30_000, RUNS * 20);

const demo = DEMO_JOB_TEXT;
const demoObj = DEMO_JOB;

/** The result is a value, never an exception, and every error names a YAML path and a problem. */
function wellFormed(text: string): ReturnType<typeof parseJobDefinition> {
  const r = parseJobDefinition(text);
  if (!r.ok) {
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) {
      expect(e.path).toMatch(/^data/);
      expect(e.message.length).toBeGreaterThan(0);
    }
  }
  return r;
}

/** Sets `value` at a path of a deep copy of `obj` (paths through arrays and mappings). */
function setAt(obj: unknown, keys: (string | number)[], value: unknown): unknown {
  if (keys.length === 0) return value;
  const [k, ...rest] = keys;
  if (Array.isArray(obj)) {
    const copy = [...obj];
    const i = Number(k) % Math.max(copy.length, 1);
    copy[i] = setAt(copy[i], rest, value);
    return copy;
  }
  if (obj && typeof obj === "object")
    return { ...(obj as Record<string, unknown>), [String(k)]: setAt((obj as Record<string, unknown>)[String(k)], rest, value) };
  return { [String(k)]: setAt(undefined, rest, value) };
}

/** Paths into the demo job, so mutations land where the schema looks. */
function paths(o: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(o)) o.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (o && typeof o === "object") for (const [k, v] of Object.entries(o)) paths(v, [...prefix, k], out);
  return out;
}
const demoPaths = paths(demoObj);

describe("parseJobDefinition (property-based)", () => {
  it("never throws on arbitrary text, binary, JSON or YAML", { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.string({ unit: "grapheme" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.jsonValue().map((v) => stringify(v)),
        ),
        (text) => void wellFormed(text),
      ),
      { numRuns: RUNS },
    );
  });

  it(
    "a valid job with one value replaced by anything of any type: an error naming a path, or a valid job — never a throw",
    { timeout: TIMEOUT_MS },
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...demoPaths),
          fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string())),
          (p, value) => {
            const mutated = setAt(demoObj, p, value);
            let text: string;
            try {
              text = stringify(mutated);
            } catch {
              return; // not representable as YAML (e.g. symbols): nothing to submit
            }
            const r = wellFormed(text);
            if (r.ok) expect(r.definition.job_name.length).toBeGreaterThan(0);
          },
        ),
        { numRuns: RUNS },
      );
    },
  );

  it("names and metadata with SQL, HTML, ANSI and any Unicode are kept byte for byte", { timeout: TIMEOUT_MS }, () => {
    const nasty = fc.oneof(
      fc.string({ unit: "grapheme", minLength: 1 }),
      fc.constantFrom(
        `'; DROP TABLE test_jobs; --`,
        `<script>alert(1)</script>`,
        "\u001b[31mred\u001b[0m",
        "a\u0000b",
        "\ud83d\ude00",
        "\u202eevil",
      ),
    );
    fc.assert(
      fc.property(nasty, fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), nasty, { maxKeys: 4 }), (name, metadata) => {
        const r = wellFormed(stringify({ ...demoObj, job_name: name, metadata }));
        if (r.ok) {
          expect(r.definition.job_name).toBe(name);
          expect(r.raw["metadata"]).toEqual(metadata);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses alias bombs of any shape without expanding them", { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), (depth, width) => {
        const lines = [`l0: &l0 [${Array(width).fill("lol").join(", ")}]`];
        for (let i = 1; i <= depth; i++)
          lines.push(
            `l${i}: &l${i} [${Array(width)
              .fill(`*l${i - 1}`)
              .join(", ")}]`,
          );
        const t0 = Date.now();
        const r = wellFormed(`${demo}\n${lines.join("\n")}\n`);
        expect(Date.now() - t0).toBeLessThan(2000);
        const aliases = depth * width;
        if (aliases > MAX_YAML_ALIASES) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.errors.map((e) => e.message).join(" ")).toMatch(/alias/i);
        }
      }),
      { numRuns: Math.min(RUNS, 500) },
    );
  });

  it("refuses anything over the size limit with the size in the message", { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), (extra) => {
        const r = parseJobDefinition(`${demo}#${"x".repeat(MAX_DEFINITION_BYTES - demo.length + extra)}`);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.errors[0]!.message).toMatch(/over the limit of \d+ bytes/);
      }),
      { numRuns: Math.min(RUNS, 50) },
    );
  });
});
