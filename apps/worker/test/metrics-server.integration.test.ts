import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The worker daemon as a real process (node + tsx), its operations server on a free port, and a
// stand-in instance on the worker API's ping route that the test switches on and off.
const MAIN = path.resolve(import.meta.dirname, "../src/main.ts");
let instance: Server;
let instanceUp = false;
let worker: ChildProcess;
let opsUrl = "";
let dir: string;

beforeAll(async () => {
  instance = createServer((req, res) => {
    if (!instanceUp || !req.url?.startsWith("/scheduler/internal/v1/workers/ops-test/")) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ start: [], running: [], cancel: [] }));
  });
  await new Promise<void>((r) => instance.listen(0, "127.0.0.1", () => r()));
  dir = mkdtempSync(path.join(os.tmpdir(), "magma-worker-ops-"));
  worker = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      PATH: process.env["PATH"],
      MAGMA_WORKER_NAME: "ops-test",
      MAGMA_WORKER_TOKEN: "t",
      MAGMA_WORKER_DIR: dir,
      MAGMA_INSTANCE_URL: `http://127.0.0.1:${(instance.address() as AddressInfo).port}`,
      MAGMA_PING_WAIT_MS: "0",
      MAGMA_WORKER_METRICS_PORT: "0",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // the worker logs its operations URL (pino JSON) once it listens
  opsUrl = await new Promise<string>((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`no operations URL in the worker's log:\n${out}`)), 30_000);
    worker.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = out.match(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    worker.once("exit", (c) => reject(new Error(`worker exited (${c}):\n${out}`)));
  });
}, 60_000);

afterAll(async () => {
  worker?.kill("SIGTERM");
  await new Promise((r) => (worker?.exitCode !== null ? r(null) : worker.once("exit", r)));
  await new Promise((r) => instance?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function get(p: string) {
  const r = await fetch(opsUrl + p);
  return { status: r.status, text: await r.text() };
}

/** Polls until `check` is truthy (no fixed sleeps). */
async function until<T>(check: () => Promise<T>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("worker operations server (real worker process)", () => {
  it("healthz answers; readyz is 503 until the instance answers a ping, then 200", async () => {
    expect(await get("/healthz")).toEqual({ status: 200, text: '{"status":"ok"}' });
    const before = await get("/readyz");
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toEqual({ status: "unready", reason: "the instance has not answered a ping yet" });
    instanceUp = true;
    expect(await until(async () => ((await get("/readyz")).status === 200 ? "ready" : ""))).toBe("ready");
  });

  it("metrics names the worker and reports running jobs, log backlog, QEMU processes and the last ping", async () => {
    const m = await get("/metrics");
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/^magma_worker_running_jobs\{worker="ops-test"\} 0$/m);
    expect(m.text).toMatch(/^magma_worker_log_backlog_lines\{worker="ops-test"\} 0$/m);
    expect(m.text).toMatch(/^magma_worker_qemu_processes\{worker="ops-test"\} 0$/m);
    const last = Number(m.text.match(/^magma_worker_last_ping_ok_timestamp_seconds\{worker="ops-test"\} (\S+)$/m)?.[1]);
    expect(last).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(m.text).toContain("magma_worker_process_resident_memory_bytes");
    expect((await get("/nope")).status).toBe(404);
  });
});
