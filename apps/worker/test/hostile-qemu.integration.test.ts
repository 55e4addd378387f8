import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZDeviceDictionary, type TLogRecord } from "@magma/protocol";
import { ExecuteQemuAction } from "../src/dispatcher/actions/boot/qemu.ts";
import { JobError } from "../src/errors.ts";
import { Pipeline, runAction } from "../src/dispatcher/pipeline.ts";
import { runJob } from "../src/job-runner.ts";
import { jobContext, qemuPidsMentioning, repoRoot } from "./helpers.ts";

/**
 * QEMU options from a job cannot reach the host: the worker re-checks `image_arg` against the
 * allow-list right before spawning QEMU, whatever the submission did. A real QEMU run with the
 * same options shows what they would have done.
 */

let root: string;
const DEVICE = "device_type: qemu\nhostname: qemu-hostile\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 128\n";

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "magma-hostile-qemu-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function hostileJob(arg: string): string {
  const text = readFileSync(path.join(repoRoot, "infra/demo/jobs/qemu-inline-tests.yaml"), "utf8");
  return text.replace('image_arg: -kernel {kernel} -append "console=ttyS0,115200 quiet"', `image_arg: '${arg}'`);
}

describe("QEMU options from a job (submission checks bypassed)", () => {
  it("the same -chardev a job could ask for does write a host file when QEMU runs it unchecked (the threat is real)", async () => {
    const target = path.join(root, "control-written");
    await promisify(execFile)("qemu-system-x86_64", [
      "-machine",
      "none",
      "-display",
      "none",
      "-S",
      "-chardev",
      `file,path=${target},id=c0`,
      "-serial",
      "chardev:c0",
      "-daemonize",
      "-pidfile",
      path.join(root, "control.pid"),
    ]).catch(() => undefined);
    const pidFile = path.join(root, "control.pid");
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
    expect(existsSync(target)).toBe(true);
  });

  it("execute-qemu refuses a -chardev image_arg before spawning: JobError naming the option, no host file, no QEMU", async () => {
    const target = path.join(root, "chardev-written");
    const jobDir = path.join(root, "jobs", "1");
    mkdirSync(path.join(jobDir, "kernel"), { recursive: true });
    const log: TLogRecord[] = [];
    const ctx = jobContext(jobDir, log, {
      device: ZDeviceDictionary.parse({ device_type: "qemu", hostname: "qemu-hostile", qemu: { machine: "pc,accel=tcg", memory_mb: 128 } }),
      images: new Map([["kernel", path.join(jobDir, "kernel", "vmlinuz")]]),
      imageArgs: new Map([["kernel", `-kernel {kernel} -chardev file,path=${target},id=c0 -serial chardev:c0`]]),
    });
    const action = new ExecuteQemuAction();
    new Pipeline().add(action, { job: { minutes: 1 }, action: { minutes: 1 } });
    const err = await runAction(action, ctx, undefined, Date.now() + 30_000, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as Error).message).toContain("QEMU option '-chardev' is not allowed in image_arg of 'kernel'");
    expect(ctx.qemu).toBeUndefined();
    expect(qemuPidsMentioning(target)).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it("a job with -netdev guestfwd=cmd: reaching the worker ends Incomplete (Job error) naming the option; the command never runs", async () => {
    const target = path.join(root, "guestfwd-ran");
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 2,
      bundle: {
        definition: hostileJob(`-kernel {kernel} -netdev user,id=n0,guestfwd=tcp:10.0.2.100:1234-cmd:touch ${target}`),
        device: DEVICE,
      },
      workerDir: path.join(root, "worker"),
      workerName: "w",
      sink: (r) => log.push(r),
    });
    expect(outcome).toMatchObject({ result: "fail", error_type: "Job" });
    expect(outcome.errors).toMatch(
      /^Job invalid: QEMU option '-netdev' is not allowed in image_arg \(allowed: [^)]*\) @ data\['actions'\]\[0\]\['deploy'\]\['images'\]\['kernel'\]\['image_arg'\]$/,
    );
    expect(existsSync(target)).toBe(false);
    expect(qemuPidsMentioning(target)).toEqual([]);
  });
});
