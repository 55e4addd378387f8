import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { buildOverlay, buildOverlayTarball, type OverlayStage } from "./overlay.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "magma-overlay-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const stages: OverlayStage[] = [
  {
    stage: 0,
    definitions: [
      {
        index: 0,
        uuid: "9_0.1",
        ref: {
          from: "inline",
          name: "smoke",
          path: "inline/smoke.yaml",
          params: { GREETING: "it's me" },
          repository: {
            metadata: { format: "Lava-Test Test Definition 1.0", name: "smoke" },
            params: { GREETING: "default", COUNT: 3 },
            run: {
              steps: [
                "lava-test-case ok --shell true",
                "false",
                "lava-test-case after-failure --result pass",
                'lava-test-case greet --shell test "$GREETING" = "it\'s me"',
              ],
            },
          },
        },
      },
    ],
  },
];

/** Unpacks the overlay with the real cpio tool into a fresh directory. */
function unpack(): string {
  const dir = mkdtempSync(path.join(tmp, "x-"));
  execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], { cwd: dir, input: gunzipSync(buildOverlay({ jobId: 9, stages })) });
  return dir;
}

const sh = (script: string, args: string[], cwd: string) =>
  execFileSync("/bin/sh", [script, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("overlay cpio", () => {
  const root = unpack();
  const lava = path.join(root, "lava-9");

  it("holds the helpers (0755), environment and each definition's run.sh", () => {
    for (const f of ["lava-test-case", "lava-test-set", "lava-test-runner", "lava-test-raise", "lava-test-event", "lava-test-reference"]) {
      expect(statSync(path.join(lava, "bin", f)).mode & 0o777).toBe(0o755);
    }
    expect(statSync(path.join(lava, "bin")).isDirectory()).toBe(true);
    expect(statSync(path.join(lava, "0/tests/0_smoke/run.sh")).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(lava, "environment"), "utf8")).toContain("export LAVA_JOB_ID='9'");
    expect(readFileSync(path.join(lava, "0/lava-test-runner.conf"), "utf8")).toBe("0_smoke\n");
    expect(readFileSync(path.join(lava, "0/tests/0_smoke/uuid"), "utf8").trim()).toBe("9_0.1");
    const run = readFileSync(path.join(lava, "0/tests/0_smoke/run.sh"), "utf8");
    expect(run).toContain("export GREETING='it'\\''s me'");
    expect(run.indexOf("export GREETING='default'")).toBeLessThan(run.indexOf("export GREETING='it'\\''s me'"));
  });

  it("lava-test-case prints LAVA's signals", () => {
    const bin = path.join(lava, "bin");
    expect(sh(path.join(bin, "lava-test-case"), ["uname", "--shell", "true"], root)).toBe(
      "<LAVA_SIGNAL_STARTTC uname>\n<LAVA_SIGNAL_ENDTC uname>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>\n",
    );
    // as LAVA: a failing command is a fail result; the helper itself exits 0
    expect(sh(path.join(bin, "lava-test-case"), ["f", "--shell", "false"], root)).toContain("TEST_CASE_ID=f RESULT=fail");
    expect(sh(path.join(bin, "lava-test-case"), ["skipped", "--result", "skip"], root)).toBe(
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=skipped RESULT=skip>\n",
    );
    expect(
      sh(path.join(bin, "lava-test-case"), ["boot-time", "--result", "pass", "--measurement", "1.83", "--units", "seconds"], root),
    ).toBe("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=boot-time RESULT=pass UNITS=seconds MEASUREMENT=1.83>\n");
    expect(sh(path.join(bin, "lava-test-set"), ["start", "network"], root)).toBe("<LAVA_SIGNAL_TESTSET START network>\n");
    expect(sh(path.join(bin, "lava-test-set"), ["stop"], root)).toBe("<LAVA_SIGNAL_TESTSET STOP>\n");
    // as LAVA: lava-test-raise always exits 1 after signalling
    expect(() => sh(path.join(bin, "lava-test-raise"), ["boom", "now"], root)).toThrow(/Command failed/);
    expect(sh(path.join(bin, "lava-test-event"), ["hello"], root)).toBe("<LAVA_SIGNAL_TESTEVENT hello>\n");
    expect(sh(path.join(bin, "lava-test-reference"), ["r", "--result", "pass", "--reference", "http://x/y"], root)).toBe(
      "<LAVA_SIGNAL_TESTREFERENCE r pass http://x/y>\n",
    );
  });

  it("run.sh keeps going after a failing step, with params exported", () => {
    // run.sh cds into /lava-9/…, which does not exist here: run its steps from the unpacked copy instead
    const run = readFileSync(path.join(lava, "0/tests/0_smoke/run.sh"), "utf8").replaceAll("/lava-9", lava);
    const out = execFileSync("/bin/sh", ["-c", run], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).toContain("TEST_CASE_ID=ok RESULT=pass");
    expect(out).toContain("TEST_CASE_ID=after-failure RESULT=pass");
    expect(out).toContain("TEST_CASE_ID=greet RESULT=pass");
  });
});

describe("overlay tarball (transfer_overlay)", () => {
  it("unpacks with tar -C <root> -xzf into the same /lava-<id> tree as the cpio, modes kept", () => {
    const dir = mkdtempSync(path.join(tmp, "t-"));
    const file = path.join(dir, "overlay.tar.gz");
    execFileSync("sh", ["-c", `cat > ${file}`], {
      input: buildOverlayTarball({ jobId: 9, stages, environment: { LAVA_DISPATCHER_IP: "10.0.2.2" } }),
    });
    const root = path.join(dir, "root");
    execFileSync("mkdir", [root]);
    execFileSync("tar", ["-C", root, "-xzf", file]);
    const lava = path.join(root, "lava-9");
    expect(statSync(path.join(lava, "bin/lava-test-runner")).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(lava, "0/tests/0_smoke/run.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(lava, "environment")).mode & 0o777).toBe(0o644);
    expect(readFileSync(path.join(lava, "environment"), "utf8")).toBe("export LAVA_JOB_ID='9'\nexport LAVA_DISPATCHER_IP='10.0.2.2'\n");
    expect(readFileSync(path.join(lava, "0/lava-test-runner.conf"), "utf8")).toBe("0_smoke\n");
    const cpioRoot = unpack();
    expect(readFileSync(path.join(lava, "0/tests/0_smoke/run.sh"), "utf8")).toBe(
      readFileSync(path.join(cpioRoot, "lava-9/0/tests/0_smoke/run.sh"), "utf8"),
    );
  });

  it("keeps long paths (ustar prefix field, GNU long names), also for busybox tar", () => {
    const longName = "a-test-definition-with-a-rather-long-name-" + "x".repeat(60);
    const long: OverlayStage[] = [
      { stage: 0, definitions: [{ ...stages[0]!.definitions[0]!, ref: { ...stages[0]!.definitions[0]!.ref, name: longName } }] },
    ];
    const listing = execFileSync("tar", ["-tzf", "-"], { input: buildOverlayTarball({ jobId: 9, stages: long }), encoding: "utf8" });
    expect(listing).toContain(`lava-9/0/tests/0_${longName}/testdef.yaml`);
    expect(listing).toContain(`lava-9/0/tests/0_${longName}/\n`);
    if (existsSync("/bin/busybox")) {
      const bb = execFileSync("/bin/busybox", ["tar", "-tzf", "-"], {
        input: buildOverlayTarball({ jobId: 9, stages: long }),
        encoding: "utf8",
      });
      expect(bb).toContain(`lava-9/0/tests/0_${longName}/run.sh`);
      expect(bb).toContain(`lava-9/0/tests/0_${longName}/\n`);
    }
  });
});

describe("overlay secrets file", () => {
  it("writes the job's secrets as KEY='value' lines in /lava-<id>/secrets (0600) that sh sources back exactly", () => {
    const dir = mkdtempSync(path.join(tmp, "secrets-"));
    const secrets = { API_KEY: 'it\'s $(touch pwned) `x` "q"', EMPTY: "", SPACED: "a b  c" };
    execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], {
      cwd: dir,
      input: gunzipSync(buildOverlay({ jobId: 9, stages, secrets })),
    });
    const file = path.join(dir, "lava-9", "secrets");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`API_KEY='it'\\''s $(touch pwned) \`x\` "q"'\nEMPTY=''\nSPACED='a b  c'\n`);
    const out = execFileSync("/bin/sh", ["-c", `. ./secrets && printf '%s|%s|%s' "$API_KEY" "$EMPTY" "$SPACED"`], {
      cwd: path.join(dir, "lava-9"),
      encoding: "utf8",
    });
    expect(out).toBe(`${secrets.API_KEY}||${secrets.SPACED}`);
    expect(existsSync(path.join(dir, "lava-9", "pwned"))).toBe(false);
    // no secrets: no file
    const none = mkdtempSync(path.join(tmp, "nosecrets-"));
    execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], {
      cwd: none,
      input: gunzipSync(buildOverlay({ jobId: 9, stages })),
    });
    expect(existsSync(path.join(none, "lava-9", "secrets"))).toBe(false);
    expect(() => buildOverlay({ jobId: 9, stages, secrets: { "A;B": "x" } })).toThrow(
      /secrets: name 'A;B' is not a valid shell variable name/,
    );
  });
});
