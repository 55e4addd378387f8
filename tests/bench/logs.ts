/**
 * Log path against a real instance process, playing the worker over the real worker API:
 *  - throughput: one Running job, sequential `POST /scheduler/internal/v1/jobs/<id>/logs/` batches
 *    of 1 000 records (1 % of them `lvl: results`, which become test cases), lines stored per second;
 *  - live log latency: from a worker upload of one line to its arrival at an SSE client of the
 *    instance's `GET /api/v0.2/jobs/<id>/logs/stream/` (the frontend proxy
 *    `/api/labs/<lab>/jobs/<id>/logs/stream` is not measured yet).
 */
import { WORKER_API_PREFIX, WORKER_PROTOCOL_VERSION, WORKER_TOKEN_HEADER, type TLogRecord, type TPingResponse } from "@magma/protocol";
import type { Pool } from "undici";
import { WORKER_TOKEN, auth, createDatabase, httpPool, jobYaml, nowMs, req, seedLab, sleep, startInstance, workerName } from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

/** Submits a job and plays the worker until it is Running. @returns id and job token */
export async function runningJob(pool: Pool, name: string): Promise<{ id: number; token: string }> {
  const r = await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", {
    body: { definition: jobYaml("bench", name) },
    headers: auth(),
  });
  const id = r.body.job_ids[0]!;
  for (let i = 0; i < 100; i++) {
    const p = await req<TPingResponse>(
      pool,
      "GET",
      `${WORKER_API_PREFIX}/workers/${workerName(0)}/?version=${WORKER_PROTOCOL_VERSION}&wait_ms=2000`,
      { headers: { [WORKER_TOKEN_HEADER]: WORKER_TOKEN } },
    );
    const j = p.body.start.find((s) => s.id === id);
    if (j) {
      await req(pool, "POST", `${WORKER_API_PREFIX}/jobs/${id}/`, {
        body: { state: "RUNNING" },
        headers: { [WORKER_TOKEN_HEADER]: j.token },
      });
      return { id, token: j.token };
    }
  }
  throw new Error(`job ${id} was never started`);
}

function records(from: number, n: number): TLogRecord[] {
  const dt = new Date().toISOString();
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    if (i % 100 === 99)
      return {
        dt,
        lvl: "results",
        msg: { definition: "0_bench", case: `case-${i}`, result: i % 7 ? "pass" : "fail", measurement: String(i % 1000), units: "ms" },
      };
    return { dt, lvl: "target", msg: `[${(i / 1000).toFixed(3)}] bench console line ${i}: the quick brown fox jumps over the lazy dog` };
  });
}

export async function benchLogs(o: BenchOptions): Promise<Measure[]> {
  const db = await createDatabase("instance", "logs");
  await seedLab(db, { workers: 1, devices: [{ type: "bench", count: 2 }] });
  const inst = await startInstance("logs", db);
  const pool = httpPool(inst.url, 2);

  // throughput
  const job = await runningJob(pool, "log-throughput");
  const path = `${WORKER_API_PREFIX}/jobs/${job.id}/logs/`;
  const h = { [WORKER_TOKEN_HEADER]: job.token };
  let index = 0;
  const upload = async (lines: TLogRecord[]) => {
    const r = await req<{ line_count: number }>(pool, "POST", path, { body: { index, lines }, headers: h });
    if (r.body.line_count !== lines.length) throw new Error(`log upload consumed ${r.body.line_count} of ${lines.length}`);
    index += lines.length;
  };
  for (let i = 0; i < 5; i++) await upload(records(index, 1000)); // warm-up
  const rates: number[] = [];
  const batchesPerRep = o.quick ? 20 : 50;
  for (let rep = 0; rep < (o.quick ? 3 : 5); rep++) {
    const bodies = Array.from({ length: batchesPerRep }, (_, b) => records(index + b * 1000, 1000));
    const t0 = nowMs();
    for (const lines of bodies) await upload(lines);
    rates.push((batchesPerRep * 1000) / ((nowMs() - t0) / 1000));
  }
  const out = [
    measure("logs", `worker → instance log ingest, one job, batches of 1 000 (${batchesPerRep} batches per rep)`, "lines/s", rates, {
      target: { stat: "p50", op: ">", value: 50_000 },
    }),
  ];

  // live log latency through the instance's SSE stream
  const live = await runningJob(pool, "log-live");
  const sse = httpPool(inst.url, 1);
  const arrivals = new Map<string, number>();
  const stream = await sse.request({
    method: "GET",
    path: `/api/v0.2/jobs/${live.id}/logs/stream/`,
    headers: { ...auth(), accept: "text/event-stream" },
  });
  if (stream.statusCode !== 200) throw new Error(`log stream: HTTP ${stream.statusCode}`);
  const reading = (async () => {
    let buf = "";
    for await (const chunk of stream.body) {
      const t = nowMs();
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /"msg":"(probe-\d+)"/.exec(ev);
        if (m) arrivals.set(m[1]!, t);
      }
    }
  })().catch(() => {});
  const lh = { [WORKER_TOKEN_HEADER]: live.token };
  const lat: number[] = [];
  const n = o.quick ? 100 : 300;
  let li = 0;
  for (let i = 0; i < n + 10; i++) {
    const key = `probe-${i}`;
    const t0 = nowMs();
    await req(pool, "POST", `${WORKER_API_PREFIX}/jobs/${live.id}/logs/`, {
      body: { index: li, lines: [{ dt: new Date().toISOString(), lvl: "target", msg: key }] },
      headers: lh,
    });
    li++;
    const deadline = Date.now() + 5000;
    while (!arrivals.has(key)) {
      if (Date.now() > deadline) throw new Error(`log line ${key} did not reach the SSE client within 5 s`);
      await sleep(1);
    }
    if (i >= 10) lat.push(arrivals.get(key)! - t0);
    await sleep(5);
  }
  stream.body.destroy();
  await reading;
  out.push(
    measure("logs", "worker log upload → SSE client (instance /api/v0.2/jobs/<id>/logs/stream/)", "ms", lat, {
      target: [
        { stat: "p50", op: "<", value: 100 },
        { stat: "p95", op: "<", value: 300 },
      ],
      lava: "≥ 5 000",
      note: "instance stream; frontend proxy not measured yet",
    }),
  );
  return out;
}
