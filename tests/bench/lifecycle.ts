/**
 * Job lifecycle latency against a real instance process and the scripted bench worker process
 * (real worker HTTP API, instant device):
 *  - submit → Running: from the REST submit request leaving the client to the worker's RUNNING
 *    being acknowledged (the instance committed Running), idle device, nothing queued;
 *  - last action done → Finished: from the worker POSTing FINISHED to the REST job detail showing
 *    state Finished.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  ADMIN_TOKEN,
  ROOT,
  WORKER_TOKEN,
  auth,
  createDatabase,
  httpPool,
  jobYaml,
  nowMs,
  onCleanup,
  req,
  seedLab,
  startInstance,
  WARM_UP_MS,
  workerName,
} from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

type WorkerEvent =
  | { ev: "ready" }
  | { ev: "running"; id: number; token: string; t: number }
  | { ev: "finished"; id: number; ackMs: number; visibleMs: number }
  | { ev: "error"; message: string };

export async function benchLifecycle(o: BenchOptions): Promise<Measure[]> {
  const db = await createDatabase("instance", "lifecycle");
  await seedLab(db, { workers: 1, devices: [{ type: "bench", count: 1 }] });
  const inst = await startInstance("lifecycle", db);
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/bench/scripted-worker.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_INSTANCE_URL: inst.url,
      BENCH_WORKER: workerName(0),
      BENCH_WORKER_TOKEN: WORKER_TOKEN,
      BENCH_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  onCleanup("scripted worker", async () => {
    child.stdin?.end();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      await exited;
    }
  });
  const queue: WorkerEvent[] = [];
  let waiter: (() => void) | null = null;
  createInterface({ input: child.stdout! }).on("line", (l) => {
    queue.push(JSON.parse(l) as WorkerEvent);
    waiter?.();
  });
  const next = async <K extends WorkerEvent["ev"]>(ev: K, timeoutMs = 10_000): Promise<Extract<WorkerEvent, { ev: K }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex((e) => e.ev === ev || e.ev === "error");
      if (i >= 0) {
        const e = queue.splice(i, 1)[0]!;
        if (e.ev === "error") throw new Error(`scripted worker: ${e.message}`);
        return e as Extract<WorkerEvent, { ev: K }>;
      }
      if (Date.now() > deadline) throw new Error(`scripted worker: no '${ev}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 100);
      });
    }
  };
  await next("ready", 30_000);

  const pool = httpPool(inst.url, 1);
  const definition = jobYaml("bench", "lifecycle");
  const reps = o.quick ? 40 : 150;
  // jobs through the whole cycle for WARM_UP_MS (at least 5) before the measured ones: the steady state
  const warmEnd = nowMs() + WARM_UP_MS;
  const toRunning: number[] = [];
  const toFinished: number[] = [];
  for (let i = 0, measured = false; toRunning.length < reps; i++) {
    measured ||= i >= 5 && nowMs() >= warmEnd;
    // let the worker's new long-poll arrive at the instance (it re-pings right after RUNNING)
    await new Promise((r) => setTimeout(r, 20));
    const t0 = nowMs();
    const r = await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", { body: { definition }, headers: auth() });
    const id = r.body.job_ids[0]!;
    const running = await next("running");
    if (running.id !== id) throw new Error(`scripted worker started job ${running.id}, expected ${id}`);
    child.stdin!.write(JSON.stringify({ cmd: "finish", id, token: running.token }) + "\n");
    const fin = await next("finished");
    if (measured) {
      toRunning.push(running.t - t0);
      toFinished.push(fin.visibleMs);
    }
  }
  return [
    measure("lifecycle", "submit → Running (idle device, scripted worker)", "ms", toRunning, {
      target: { stat: "p50", op: "<", value: 20 },
      lava: "250 / 330",
    }),
    measure("lifecycle", "worker FINISHED → Finished visible via REST", "ms", toFinished, {
      target: { stat: "p50", op: "<", value: 200 },
      lava: "≤ 20 000",
    }),
  ];
}
