import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overlayEntries } from "./overlay.ts";

// The lava-test-* helpers of the overlay, run by busybox's sh (the DUT's shell) on the host: each
// call's output, exit code and result files, against what LAVA's helpers do for the same arguments.
const BUSYBOX = "/usr/bin/busybox";
let dir: string;
let bin: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "magma-helpers-"));
  bin = path.join(dir, "bin");
  mkdirSync(bin);
  for (const e of overlayEntries({ jobId: 7, stages: [] })) {
    if (e.type === "file" && e.path.startsWith("lava-7/bin/")) {
      const p = path.join(bin, path.basename(e.path));
      writeFileSync(p, e.data);
      chmodSync(p, 0o755);
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` under busybox sh with the helpers on PATH, in `dir`. */
function sh(script: string, env: Record<string, string> = {}): { code: number; out: string } {
  const r = spawnSync(BUSYBOX, ["sh", "-c", script], {
    cwd: dir,
    env: { PATH: `${bin}:/usr/bin:/bin`, LAVA_RESULT_DIR: path.join(dir, "res"), ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

describe("lava-test-case", () => {
  it("--shell with one argument evaluates it: pipes, redirects and && work (as LAVA's eval)", () => {
    const r = sh(`lava-test-case piped --shell 'echo abc | grep -q b && echo done > piped.txt'`);
    expect(r).toEqual({
      code: 0,
      out: "<LAVA_SIGNAL_STARTTC piped>\n<LAVA_SIGNAL_ENDTC piped>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=piped RESULT=pass>\n",
    });
    expect(readFileSync(path.join(dir, "piped.txt"), "utf8")).toBe("done\n");
    expect(readFileSync(path.join(dir, "res/results/piped/result"), "utf8")).toBe("pass\n");
  });

  it("--shell with several arguments runs them as exact argv (no word splitting of an argument)", () => {
    expect(sh(`lava-test-case argv --shell test "a b" = "a b"`).out).toContain("RESULT=pass");
    // joined and evaluated, this would be `test a b = a b`: an error
    expect(sh(`lava-test-case split --shell test "a b" = "a  b"`).out).toContain("RESULT=fail");
  });

  it("a failing --shell command is a fail result, and the helper itself exits 0", () => {
    expect(sh(`lava-test-case nope --shell false; echo "rc=$?"`)).toEqual({
      code: 0,
      out: "<LAVA_SIGNAL_STARTTC nope>\n<LAVA_SIGNAL_ENDTC nope>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=nope RESULT=fail>\nrc=0\n",
    });
  });

  it("the command sees TEST_CASE_ID", () => {
    expect(sh(`lava-test-case named --shell 'echo "id=$TEST_CASE_ID"'`).out).toContain("id=named\n");
  });

  it("--result with --units and --measurement signals RESULT, UNITS, MEASUREMENT in LAVA's order and writes the files", () => {
    expect(sh(`lava-test-case boot --result pass --measurement 1.5 --units s`).out).toBe(
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=boot RESULT=pass UNITS=s MEASUREMENT=1.5>\n",
    );
    expect(readFileSync(path.join(dir, "res/results/boot/measurement"), "utf8")).toBe("1.5\n");
    expect(readFileSync(path.join(dir, "res/results/boot/units"), "utf8")).toBe("s\n");
  });

  it("--output FILE prints the file between STARTTC and ENDTC (LAVA 2025.04)", () => {
    writeFileSync(path.join(dir, "tool.log"), "line one\nline two\n");
    expect(sh(`lava-test-case tool --result fail --output tool.log`).out).toBe(
      "<LAVA_SIGNAL_STARTTC tool>\nline one\nline two\n<LAVA_SIGNAL_ENDTC tool>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=tool RESULT=fail>\n",
    );
  });

  it("refuses a missing name, a missing --result and unknown options with usage and exit 1", () => {
    expect(sh(`lava-test-case`).code).toBe(1);
    expect(sh(`lava-test-case x --measurement 3`)).toEqual({ code: 1, out: "--result must be specified\n" });
    const bad = sh(`lava-test-case x --bogus`);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("Usage: lava-test-case");
  });

  it("signals go to /dev/kmsg-style output only when KMSG is set (here: not set, so stdout)", () => {
    expect(sh(`lava-test-set start net && lava-test-set stop`).out).toBe("<LAVA_SIGNAL_TESTSET START net>\n<LAVA_SIGNAL_TESTSET STOP>\n");
  });
});

describe("the other helpers", () => {
  it("lava-test-set needs a name to start", () => {
    expect(sh(`lava-test-set start`).code).toBe(1);
    expect(sh(`lava-test-set`).code).toBe(1);
  });

  it("lava-test-raise signals TESTRAISE and always exits 1", () => {
    expect(sh(`lava-test-raise disk not found`)).toEqual({ code: 1, out: "<LAVA_SIGNAL_TESTRAISE disk not found>\n" });
  });

  it("lava-test-event takes exactly one argument", () => {
    expect(sh(`lava-test-event "booted fine"`)).toEqual({ code: 0, out: "<LAVA_SIGNAL_TESTEVENT booted fine>\n" });
    expect(sh(`lava-test-event booted fine`).code).toBe(1);
  });

  it("lava-test-reference needs --result and --reference", () => {
    expect(sh(`lava-test-reference docs --result pass --reference http://example.com/x`)).toEqual({
      code: 0,
      out: "<LAVA_SIGNAL_TESTREFERENCE docs pass http://example.com/x>\n",
    });
    expect(sh(`lava-test-reference docs --result pass`)).toEqual({ code: 1, out: "--reference must be specified\n" });
  });

  it("lava-test-feedback signals the namespace", () => {
    expect(sh(`lava-test-feedback --namespace common`)).toEqual({ code: 0, out: "<LAVA_SIGNAL_TESTFEEDBACK common>\n" });
    expect(sh(`lava-test-feedback`).code).toBe(1);
  });

  it("lava-test-case-attach is refused with a message saying what to do instead", () => {
    const r = sh(`lava-test-case-attach x file.txt`);
    expect(r.code).toBe(1);
    expect(r.out).toContain("lava-test-case-attach is not supported");
    expect(r.out).toContain("--output FILE");
  });

  it("lava-background-process-start/stop run a command in the background until stopped", async () => {
    const ticks = path.join(dir, "ticks");
    expect(sh(`lava-background-process-start ticker --cmd "echo tick >> ${ticks}; sleep 30"`)).toEqual({ code: 0, out: "" });
    const pid = Number(readFileSync(path.join(dir, "res/results/ticker/pid"), "utf8"));
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 200 && !existsSync(ticks); i++) await new Promise((r) => setTimeout(r, 25));
    expect(readFileSync(ticks, "utf8")).toBe("tick\n");
    expect(alive(pid)).toBe(true);
    expect(sh(`lava-background-process-stop ticker`)).toEqual({ code: 0, out: "" });
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25));
    expect(alive(pid)).toBe(false);
    expect(sh(`lava-background-process-stop nothing`)).toEqual({ code: 1, out: "no background process named nothing\n" });
    expect(sh(`lava-background-process-start x`).code).toBe(1);
  });
});
