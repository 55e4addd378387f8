/**
 * Bench "worker" process: speaks the real worker HTTP API (/scheduler/internal/v1) to one instance
 * with an instant device — long-poll ping, job bundle, RUNNING at once — and finishes jobs when the
 * bench tells it to. Spawned by latency.ts; talks JSON lines:
 *   stdin  {"cmd":"finish","id":N,"token":"…"}          POST FINISHED (pass), then polls the REST
 *                                                       job until it shows Finished
 *   stdout {"ev":"ready"}                               first ping answered
 *          {"ev":"running","id":N,"token":"…","t":ms}   RUNNING acknowledged at wall-clock t
 *          {"ev":"finished","id":N,"ackMs":…,"visibleMs":…}
 * Environment: BENCH_INSTANCE_URL, BENCH_WORKER, BENCH_WORKER_TOKEN, BENCH_ADMIN_TOKEN.
 */
import { createInterface } from "node:readline";
import { Pool } from "undici";
import { WORKER_API_PREFIX, WORKER_PROTOCOL_VERSION, WORKER_TOKEN_HEADER, type TPingResponse } from "@magma/protocol";

const url = process.env["BENCH_INSTANCE_URL"]!;
const worker = process.env["BENCH_WORKER"]!;
const workerToken = process.env["BENCH_WORKER_TOKEN"]!;
const adminToken = process.env["BENCH_ADMIN_TOKEN"]!;
const pingPool = new Pool(url, { connections: 1 });
const jobPool = new Pool(url, { connections: 2 });
const now = () => performance.timeOrigin + performance.now();
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");

async function call(pool: Pool, method: "GET" | "POST", path: string, headers: Record<string, string>, body?: unknown): Promise<unknown> {
  const r = await pool.request({
    method,
    path,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.body.text();
  if (r.statusCode >= 400) throw new Error(`${method} ${path}: HTTP ${r.statusCode} ${text}`);
  return text ? JSON.parse(text) : null;
}

const started = new Set<number>();
let stopping = false;

async function pingLoop(): Promise<void> {
  let first = true;
  while (!stopping) {
    let answer: TPingResponse;
    try {
      answer = (await call(
        pingPool,
        "GET",
        `${WORKER_API_PREFIX}/workers/${worker}/?version=${WORKER_PROTOCOL_VERSION}&wait_ms=${first ? 0 : 25000}`,
        { [WORKER_TOKEN_HEADER]: workerToken },
      )) as TPingResponse;
    } catch (e) {
      if (stopping) return;
      process.stderr.write(`ping failed: ${(e as Error).message}\n`);
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (first) emit({ ev: "ready" });
    first = false;
    for (const j of answer.start) {
      if (started.has(j.id)) continue;
      started.add(j.id);
      const h = { [WORKER_TOKEN_HEADER]: j.token };
      await call(jobPool, "GET", `${WORKER_API_PREFIX}/jobs/${j.id}/`, h);
      await call(jobPool, "POST", `${WORKER_API_PREFIX}/jobs/${j.id}/`, h, { state: "RUNNING" });
      emit({ ev: "running", id: j.id, token: j.token, t: now() });
    }
  }
}

async function finish(id: number, token: string): Promise<void> {
  const t0 = now();
  await call(jobPool, "POST", `${WORKER_API_PREFIX}/jobs/${id}/`, { [WORKER_TOKEN_HEADER]: token }, { state: "FINISHED", result: "pass" });
  const ack = now();
  for (;;) {
    const j = (await call(jobPool, "GET", `/api/v0.2/jobs/${id}/`, { authorization: `Token ${adminToken}` })) as { state: string };
    if (j.state === "Finished") break;
  }
  emit({ ev: "finished", id, ackMs: ack - t0, visibleMs: now() - t0 });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line) as { cmd: string; id: number; token: string };
  if (m.cmd === "finish") finish(m.id, m.token).catch((e) => emit({ ev: "error", message: (e as Error).message }));
});
process.stdin.on("end", () => {
  stopping = true;
  void Promise.all([pingPool.destroy(), jobPool.destroy()]).then(() => process.exit(0));
});
process.on("SIGTERM", () => process.exit(0));
pingLoop().catch((e) => {
  emit({ ev: "error", message: (e as Error).message });
  process.exit(1);
});
