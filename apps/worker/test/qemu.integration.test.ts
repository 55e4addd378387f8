import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TLogRecord, TResultMessage } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, qemuPidsMentioning, serveDir } from "./helpers.ts";

const SAMPLE = path.join(import.meta.dirname, "fixtures", "inline-tests.yaml");
const DEVICE = "device_type: qemu\nhostname: qemu-test-01\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 256\n";

let server: Awaited<ReturnType<typeof serveDir>>;
let workerDir: string;

beforeAll(async () => {
  const dut = buildDut();
  server = await serveDir(dut);
  workerDir = mkdtempSync(path.join(os.tmpdir(), "magma-worker-it-"));
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (workerDir) rmSync(workerDir, { recursive: true, force: true });
});

/** The fixture job pointed at this test's image server. */
function sampleJob(baseUrl: string): string {
  return readFileSync(SAMPLE, "utf8").replaceAll("IMAGES/", `${baseUrl}/`);
}

function results(log: TLogRecord[]): TResultMessage[] {
  return log.filter((r) => r.lvl === "results").map((r) => r.msg as TResultMessage);
}

describe("job-runner against a real QEMU DUT", () => {
  it("runs the inline-tests sample: deploy, boot, test signals, lava.job pass", async () => {
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 101,
      bundle: { definition: sampleJob(server.url), device: DEVICE },
      workerDir,
      workerName: "it-worker",
      sink: (r) => log.push(r),
    });
    const res = results(log);
    const find = (def: string, name: string) => res.find((r) => r.definition === def && r.case === name);
    if (outcome.result !== "pass")
      console.error(
        log
          .slice(-60)
          .map((r) => `${r.lvl}: ${JSON.stringify(r.msg)}`)
          .join("\n"),
      );
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    expect(find("0_smoke", "always-pass")?.result).toBe("pass");
    expect(find("0_smoke", "always-fail")?.result).toBe("fail");
    expect(find("0_smoke", "explicit-skip")?.result).toBe("skip");
    expect(find("0_smoke", "boot-time")).toMatchObject({ result: "pass", measurement: 1.83, units: "seconds" });
    expect(find("0_smoke", "loopback-up")).toMatchObject({ result: "pass", set: "network" });
    expect(find("0_smoke", "kernel-version")?.result).toBe("pass");
    // one --shell argument is evaluated by the DUT's shell, as LAVA does: a pipe, && and a redirect
    expect(find("0_smoke", "piped")?.result).toBe("pass");
    expect(find("0_smoke", "piped-file")?.result).toBe("pass");
    // the job's environment: is exported in the test shell
    expect(find("0_smoke", "env-var")?.result).toBe("pass");
    expect(find("0_smoke", "device-vars")?.result).toBe("pass");
    // parse: pattern with a fixupdict turns the tool's output into cases, as LAVA's PatternFixup
    expect(find("2_parsed", "alpha")?.result).toBe("pass");
    expect(find("2_parsed", "beta")?.result).toBe("fail");
    expect(find("2_parsed", "speed")).toMatchObject({ result: "pass", measurement: 3.5, units: "ms" });
    expect(find("1_second", "second-ok")?.result).toBe("pass");
    // the definition's install: steps ran before it (deps skipped with a note: busybox has no package manager)
    expect(find("1_second", "install-ran")?.result).toBe("pass");
    expect(
      log.some(
        (r) => r.lvl === "target" && String(r.msg).includes("install deps skipped (this DUT has no package manager Magma drives): curl"),
      ),
    ).toBe(true);
    expect(find("lava", "0_smoke")?.result).toBe("pass");
    expect(find("lava", "1_second")?.result).toBe("pass");
    expect(find("lava", "job")?.result).toBe("pass");
    const always = find("0_smoke", "always-pass")!;
    expect(always.starttc).toBeLessThanOrEqual(always.endtc!);
    expect(String(log[always.starttc!]!.msg)).toContain("<LAVA_SIGNAL_STARTTC always-pass>");
    const target = log.filter((r) => r.lvl === "target").map((r) => String(r.msg));
    expect(target.some((l) => l.includes("magma-dut: ready"))).toBe(true);
    expect(target.some((l) => l.includes("hello-from-second-suite"))).toBe(true);
    expect(log.some((r) => r.lvl === "input" && String(r.msg).includes("lava-test-runner"))).toBe(true);
    expect(log.some((r) => r.msg === "start: 2 boot-image-retry (timeout 00:02:00) [common]")).toBe(true);
    expect(qemuPidsMentioning(path.join(workerDir, "jobs", "101"))).toEqual([]);
  }, 180_000);

  it("a 404 image URL fails validation with error_type Job, as LAVA's job 8", async () => {
    const log: TLogRecord[] = [];
    const def = sampleJob(server.url).replace(`${server.url}/vmlinuz`, `${server.url}/does-not-exist/vmlinuz-missing`);
    const outcome = await runJob({
      jobId: 102,
      bundle: { definition: def, device: DEVICE },
      workerDir,
      workerName: "it-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Job");
    expect(outcome.errors).toBe(`Invalid job data: ["Resource unavailable at '${server.url}/does-not-exist/vmlinuz-missing' (404)"]`);
    expect(results(log).find((r) => r.case === "validate")?.result).toBe("fail");
    expect(results(log).find((r) => r.case === "job")).toMatchObject({ result: "fail", error_type: "Job" });
  });

  it("cancel mid-boot kills QEMU and ends Canceled", async () => {
    const log: TLogRecord[] = [];
    const ctrl = new AbortController();
    const jobDir = path.join(workerDir, "jobs", "103");
    const running = runJob({
      jobId: 103,
      bundle: { definition: sampleJob(server.url), device: DEVICE },
      workerDir,
      workerName: "it-worker",
      signal: ctrl.signal,
      sink: (r) => {
        log.push(r);
        // cancel once the kernel is talking on the console (mid-boot)
        if (r.lvl === "target" && !ctrl.signal.aborted) setImmediate(() => ctrl.abort());
      },
    });
    const outcome = await running;
    expect(log.some((r) => r.lvl === "target")).toBe(true);
    expect(outcome).toMatchObject({ result: "fail", error_type: "Canceled", errors: "The job was canceled" });
    expect(qemuPidsMentioning(jobDir)).toEqual([]);
    expect(results(log).find((r) => r.case === "power-off")?.result).toBe("pass");
  }, 60_000);

  it("QEMU dying during boot is an Infrastructure error carrying its stderr", async () => {
    const log: TLogRecord[] = [];
    const device = DEVICE + "  extra_options:\n    - -device no-such-device-model\n";
    const outcome = await runJob({
      jobId: 104,
      bundle: { definition: sampleJob(server.url), device },
      workerDir,
      workerName: "it-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Infrastructure");
    expect(outcome.errors).toMatch(/QEMU exited unexpectedly.*no-such-device-model/s);
  }, 60_000);
});
