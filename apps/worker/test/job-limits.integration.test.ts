import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { TLogRecord } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";

/**
 * Per-job log cap (MAGMA_WORKER_MAX_LOG_LINES) on a real worker job: a board (telnet console, as
 * behind ser2net) that prints line after line and never a prompt ends the job Incomplete with the
 * limit named, long before its boot timeout; the job's result records still go out.
 */

let workerDir: string;
let board: net.Server;
let port = 0;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  workerDir = mkdtempSync(path.join(os.tmpdir(), "magma-limits-"));
  board = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    let i = 0;
    const t = setInterval(() => {
      if (s.destroyed) return clearInterval(t);
      s.write(Array.from({ length: 200 }, () => `chatter ${i++}\r\n`).join(""));
    }, 10);
  });
  await new Promise<void>((r) => board.listen(0, "127.0.0.1", r));
  port = (board.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => board?.close(() => r()));
  if (workerDir) rmSync(workerDir, { recursive: true, force: true });
});

describe("per-job log cap", () => {
  it("a job whose DUT floods the log past MAGMA_WORKER_MAX_LOG_LINES ends Incomplete naming the limit", async () => {
    const log: TLogRecord[] = [];
    const t0 = Date.now();
    const outcome = await runJob({
      jobId: 601,
      bundle: {
        definition: stringify({
          job_name: "chatty",
          device_type: "chatty",
          visibility: "public",
          timeouts: { job: { minutes: 2 } },
          actions: [{ boot: { method: "minimal", prompts: ["never-printed# "], timeout: { seconds: 90 } } }],
        }),
        device: stringify({ device_type: "chatty", hostname: "chatty-01", connection_command: `telnet 127.0.0.1 ${port}` }),
      },
      workerDir,
      workerName: "w",
      sink: (r) => log.push(r),
      maxLogLines: 2000,
    });
    expect(outcome).toMatchObject({ result: "fail", error_type: "Job" });
    expect(outcome.errors).toBe(
      "the job log reached 2000 lines, the worker's limit (MAGMA_WORKER_MAX_LOG_LINES): DUT output is no longer logged",
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(log.filter((r) => r.lvl === "target").length).toBeLessThan(2000);
    expect(log.length).toBeLessThan(2100);
    const job = log
      .filter((r) => r.lvl === "results")
      .map((r) => r.msg as Record<string, unknown>)
      .find((m) => m["case"] === "job");
    expect(job).toMatchObject({ result: "fail", error_type: "Job" });
  });
});
