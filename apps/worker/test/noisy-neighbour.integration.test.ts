import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { TLogRecord } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, repoRoot, serveDir } from "./helpers.ts";

/**
 * Two jobs on one worker process, as the daemon runs them: a real QEMU job, and beside it a job on
 * a hostile "board" (a telnet console, as behind ser2net) that prints a 5 MB line without a
 * newline, then a burst of 200 000 lines, then endless 'aaaa…' — with the catastrophic prompt
 * `(a+)+b`. The hostile job fails on its own timeout; the QEMU job completes; the event loop stays
 * responsive throughout.
 */

const QEMU_DEVICE = "device_type: qemu\nhostname: qemu-neighbour-01\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 256\n";
let server: Awaited<ReturnType<typeof serveDir>>;
let workerDir: string;
let noisy: net.Server;
let noisyPort = 0;
const sockets = new Set<net.Socket>();

/** The hostile board: floods whoever connects, respecting back-pressure, until the socket closes. */
async function flood(s: net.Socket): Promise<void> {
  const write = async (data: string) => {
    if (s.destroyed) return;
    if (!s.write(data)) await new Promise((r) => s.once("drain", r));
  };
  for (let i = 0; i < 5 * 64; i++) await write("x".repeat(16 * 1024)); // 5 MB, no newline
  await write("\n");
  for (let i = 0; i < 20; i++) await write(Array.from({ length: 10_000 }, (_, j) => `burst ${i * 10_000 + j}\n`).join(""));
  while (!s.destroyed) {
    await write("a".repeat(8 * 1024) + "c");
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  server = await serveDir(buildDut());
  workerDir = mkdtempSync(path.join(os.tmpdir(), "magma-neighbour-"));
  noisy = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    void flood(s);
  });
  await new Promise<void>((r) => noisy.listen(0, "127.0.0.1", r));
  noisyPort = (noisy.address() as net.AddressInfo).port;
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => noisy?.close(() => r()));
  await server?.close();
  if (workerDir) rmSync(workerDir, { recursive: true, force: true });
});

describe("a noisy, hostile device beside a healthy one on the same worker", () => {
  it("the hostile job ends on its own timeout, the QEMU job completes, the worker stays responsive", async () => {
    const qemuJob = readFileSync(path.join(repoRoot, "infra/demo/jobs/qemu-inline-tests.yaml"), "utf8").replaceAll(
      "http://127.0.0.1:4100",
      server.url,
    );
    const hostileJob = stringify({
      job_name: "noisy board",
      device_type: "noisy",
      visibility: "public",
      timeouts: { job: { minutes: 2 } },
      actions: [{ boot: { method: "minimal", prompts: ["(a+)+b"], timeout: { seconds: 20 } } }],
    });
    const hostileDevice = stringify({ device_type: "noisy", hostname: "noisy-01", connection_command: `telnet 127.0.0.1 ${noisyPort}` });

    let last = performance.now();
    let lagMs = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      lagMs = Math.max(lagMs, now - last - 50);
      last = now;
    }, 50);
    const qemuLog: TLogRecord[] = [];
    const hostileLog: TLogRecord[] = [];
    const t0 = Date.now();
    try {
      const [qemu, hostile] = await Promise.all([
        runJob({
          jobId: 501,
          bundle: { definition: qemuJob, device: QEMU_DEVICE },
          workerDir,
          workerName: "w",
          sink: (r) => qemuLog.push(r),
        }),
        runJob({
          jobId: 502,
          bundle: { definition: hostileJob, device: hostileDevice },
          workerDir,
          workerName: "w",
          sink: (r) => hostileLog.push(r),
        }).then((o) => ({ ...o, ms: Date.now() - t0 })),
      ]);
      if (qemu.result !== "pass")
        console.error(
          qemuLog
            .slice(-40)
            .map((r) => `${r.lvl}: ${JSON.stringify(r.msg)}`)
            .join("\n"),
        );
      expect(qemu).toMatchObject({ result: "pass", error_type: "" });
      expect(hostile).toMatchObject({ result: "fail", error_type: "LAVATimeout" });
      expect(hostile.ms).toBeLessThan(40_000);
    } finally {
      clearInterval(probe);
    }
    // the 5 MB line: the worker kept 64 KiB of it, the log shows its first 16 KiB, the drop is counted
    const targets = hostileLog.filter((r) => r.lvl === "target").map((r) => String(r.msg));
    expect(targets.some((l) => l.startsWith("xxxx") && l.endsWith(" [truncated by magma]") && l.length === 16 * 1024)).toBe(true);
    expect(hostileLog.some((r) => String(r.msg).includes("characters of a console line longer than 65536 characters"))).toBe(true);
    expect(targets.filter((l) => l.startsWith("burst ")).length).toBeGreaterThan(1000);
    expect(lagMs).toBeLessThan(1500);
  }, 240_000);
});
