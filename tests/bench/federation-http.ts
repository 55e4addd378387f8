/**
 * Federation ingest as users feel it: LAVA-format notify callbacks (`dataset: results`) POSTed by
 * several concurrent senders to a real `next start` frontend's `/api/callbacks/<lab>`, signed as a
 * Magma lab signs them, through BullMQ (real Redis) into PostgreSQL. The clock runs from the first
 * POST until every test case is in the frontend's database; then every callback is delivered again
 * (a lab re-sending after a lost acknowledgement, new delivery ids) and nothing may be added.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  FEDERATION_TOKEN_HEADER,
  type TNotifyPayload,
} from "@magma/protocol";
import { signPayload } from "@magma/db/secrets";
import type { Pool } from "undici";
import { ensureFrontendBuild, waitForHttp } from "../../infra/demo/stack.ts";
import {
  REDIS_URL,
  RUN_ID,
  ROOT,
  STATE_DIR,
  cleanupAll,
  connect,
  createDatabase,
  freePort,
  httpPool,
  nowMs,
  sleep,
  spawnProc,
  treeCpuMs,
  treeRssBytes,
  waitUntil,
} from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const CASES_PER_JOB = 212;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const SENDERS = 8;

/** One finished job's callback with `cases` test cases in LAVA's results format (YAML lists per suite). */
export function payload(jobId: number, cases: number, build = true): TNotifyPayload {
  const suites: Record<string, string[]> = {};
  for (let k = 0; k < cases; k++) {
    const suite = k < 2 ? "lava" : `${Math.floor(k / 50)}_suite`;
    (suites[suite] ??= []).push(
      [
        `- id: '${jobId * 1000 + k}'`,
        `  job: '${jobId}'`,
        `  name: case-${k}`,
        `  suite: ${suite}`,
        `  result: ${k % 9 === 0 ? "fail" : "pass"}`,
        `  measurement: ${k % 10 === 0 ? `'${k}.5'` : "None"}`,
        `  unit: ${k % 10 === 0 ? "ms" : "''"}`,
        `  metadata: {case: case-${k}, definition: ${suite}, result: pass}`,
      ].join("\n"),
    );
  }
  return {
    status: 2,
    status_string: "complete",
    state: 5,
    state_string: "Finished",
    health: 1,
    health_string: "Complete",
    submit_time: "2026-11-30 06:56:30.291986+00:00",
    start_time: "2026-11-30 06:56:31.000000+00:00",
    end_time: "2026-11-30 06:57:10.394801+00:00",
    submitter_username: "admin",
    failure_comment: null,
    priority: 50,
    description: `bench ${jobId}`,
    actual_device_id: "qemu-01",
    definition: "job_name: bench\ndevice_type: qemu\nvisibility: public\n",
    metadata: build
      ? { "kernel.tree": "mainline", "git.branch": "master", "git.commit": `c${jobId % 10}` }
      : { "bench.job": String(jobId) },
    results: Object.fromEntries(Object.entries(suites).map(([s, rows]) => [s, rows.join("\n") + "\n"])),
    id: jobId,
    magma: { instance: "lab-a", device_type: "qemu", error_type: null, health_check: false, visibility: "public" },
  } as TNotifyPayload;
}

interface IngestRun {
  /** test cases per second, one sample per repetition */
  rates: number[];
  /** cases added by re-delivering every callback (must be 0) */
  duplicates: number;
  jobs: number;
  /** RSS (process tree) of the first `next start` after the warm-up, before the load, in MB */
  idleRssMB: number[];
  /** CPU of the `next start` process trees per callback, receive and ingest, ms (one sample per repetition) */
  cpuPerCallbackMs: number[];
  /** CPU of the `next start` process trees per re-delivered callback (received, checked, dropped by BullMQ as a duplicate), ms */
  receiveCpuMs: number[];
  /** CPU of the `next start` process trees per `GET /healthz` (the framework's own cost of a request), ms */
  healthzCpuMs: number[];
}

/**
 * Starts `frontends` `next start` processes on one frontend database and one Redis queue prefix
 * (each process runs the callback consumer: N consumer processes on one Redis), POSTs the callbacks
 * from SENDERS senders spread round-robin over the processes, and measures cases/s until every
 * case is in PostgreSQL, then re-delivers everything and counts what was added.
 */
/** `next start` processes sharing one frontend database and queue prefix, with lab `lab-a` configured. */
export interface BenchFrontends {
  dbUrl: string;
  procs: { url: string; pid: number }[];
  /** one keep-alive pool per process */
  pools: Pool[];
  /** POSTs a callback body to process `i % N`, signed as lab-a signs. @throws Error unless 202 */
  post(i: number, body: string): Promise<void>;
}

/**
 * Starts `n` `next start` processes (each runs the callback consumer) on one new frontend database
 * and one Redis queue prefix, lab `lab-a` at `labUrl` (read with `labToken`), signed callbacks.
 */
export async function startFrontends(
  n: number,
  label: string,
  lab: { url: string; token: string } = { url: "http://127.0.0.1:9", token: "unused-token" },
  connections = SENDERS,
): Promise<BenchFrontends> {
  await ensureFrontendBuild();
  const dbUrl = await createDatabase("frontend", label);
  const callbackToken = randomBytes(18).toString("base64url");
  const secret = randomBytes(24).toString("base64url");
  const config = path.join(STATE_DIR, `${label}-frontend.yaml`);
  writeFileSync(
    config,
    `instances:\n- {name: lab-a, url: "${lab.url}", api_token: "${lab.token}", callback_token: "${callbackToken}", callback_secret: "${secret}"}\n`,
  );
  const prefix = `magma-bench-${RUN_ID}-${label}`;
  const secretKey = randomBytes(24).toString("base64url");
  const procs: { url: string; pid: number }[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    // e.g. MAGMA_BENCH_FRONTEND_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the frontends
    const nodeArgs = (process.env["MAGMA_BENCH_FRONTEND_NODE_ARGS"] ?? "").split(" ").filter(Boolean);
    const p = spawnProc(
      `${label}-frontend-${i}`,
      [...nodeArgs, path.join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"],
      {
        MAGMA_FRONTEND_DATABASE_URL: dbUrl,
        REDIS_URL,
        MAGMA_QUEUE_PREFIX: prefix,
        MAGMA_FRONTEND_CONFIG: config,
        MAGMA_RECONCILE_INTERVAL_MS: "0",
        MAGMA_FRONTEND_SECRET_KEY: secretKey,
        MAGMA_LOG_LEVEL: "warn",
        NEXT_TELEMETRY_DISABLED: "1",
      },
      path.join(ROOT, "apps/frontend"),
    );
    procs.push({ url: `http://127.0.0.1:${port}`, pid: p.pid });
  }
  for (const f of procs) await waitForHttp(`${f.url}/healthz`, 120_000, "frontend (next start)");
  const pools = procs.map((f) => httpPool(f.url, Math.ceil(connections / n)));
  const post = async (i: number, body: string) => {
    const ts = Math.floor(Date.now() / 1000);
    const r = await pools[i % pools.length]!.request({
      method: "POST",
      path: "/api/callbacks/lab-a",
      headers: {
        "content-type": "application/json",
        [FEDERATION_TOKEN_HEADER]: callbackToken,
        [CALLBACK_TIMESTAMP_HEADER]: String(ts),
        [CALLBACK_DELIVERY_HEADER]: randomUUID(),
        [CALLBACK_SIGNATURE_HEADER]: signPayload(secret, ts, body),
      },
      body,
    });
    const text = await r.body.text();
    if (r.statusCode !== 202) throw new Error(`callback: HTTP ${r.statusCode}: ${text.slice(0, 300)}`);
  };
  return { dbUrl, procs, pools, post };
}

/**
 * Starts `frontends` `next start` processes on one frontend database and one Redis queue prefix
 * (each process runs the callback consumer: N consumer processes on one Redis), POSTs the callbacks
 * from SENDERS senders spread round-robin over the processes, and measures cases/s until every
 * case is in PostgreSQL, then re-delivers everything and counts what was added.
 */
async function runIngest(o: BenchOptions, frontends: number, label: string, build = true): Promise<IngestRun> {
  const { dbUrl, procs, pools, post } = await startFrontends(frontends, label);
  const pg = await connect(dbUrl);
  /** The callback queue is empty: nothing waiting, running or delayed (frontend /metrics). */
  const drained = async () => {
    const r = await pools[0]!.request({ method: "GET", path: "/metrics" });
    const text = await r.body.text();
    const depth = (state: string) =>
      Number(new RegExp(`^magma_frontend_callback_queue_depth\\{state="${state}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    return ["waiting", "active", "delayed"].every((st) => depth(st) === 0);
  };
  const count = async () => Number((await pg.query<{ n: string }>("SELECT count(*) AS n FROM federated_test_case")).rows[0]!.n);
  // a job row commits in the transaction that stores its cases: counting the jobs (hundreds of rows)
  // tells when the cases are all in without scanning them every few ms, which took a large share of
  // PostgreSQL's CPU from the ingest being measured; the case count is checked exactly once it does
  const jobsIn = async () => Number((await pg.query<{ n: string }>("SELECT count(*) AS n FROM federated_job")).rows[0]!.n);

  const send = async (bodies: string[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, sender) => {
        while (next < bodies.length) await post(sender, bodies[next++]!);
      }),
    );
  };

  const jobs = o.quick ? 100 : 300;
  const reps = o.quick ? 2 : 3;
  const rates: number[] = [];
  const cpuPerCallbackMs: number[] = [];
  const receiveCpuMs: number[] = [];
  const cpu = () => procs.reduce((a, p) => a + treeCpuMs(p.pid), 0);
  let duplicates = 0;
  // warm-up: the first requests compile routes and open the pools (every process gets some)
  await send(Array.from({ length: 8 * frontends }, (_, i) => JSON.stringify(payload(900_000 + i, 20))));
  await waitUntil("warm-up callbacks ingested", 60_000, async () => (await count()) === 8 * frontends * 20);
  await sleep(3000);
  const idleRssMB: number[] = [];
  for (let i = 0; i < 8; i++) {
    idleRssMB.push(treeRssBytes(procs[0]!.pid) / 1e6);
    await sleep(250);
  }
  for (let rep = 0; rep < reps; rep++) {
    const base = await count();
    const baseJobs = await jobsIn();
    const bodies = Array.from({ length: jobs }, (_, i) => JSON.stringify(payload(rep * 10_000 + i + 1, CASES_PER_JOB, build)));
    const want = base + jobs * CASES_PER_JOB;
    const c0 = cpu();
    const t0 = nowMs();
    await send(bodies);
    await waitUntil(
      `${jobs} callbacks ingested`,
      10 * 60_000,
      async () => (await jobsIn()) >= baseJobs + jobs && (await count()) >= want,
      10,
    );
    rates.push((jobs * CASES_PER_JOB) / ((nowMs() - t0) / 1000));
    cpuPerCallbackMs.push((cpu() - c0) / jobs);
    // the same callbacks again (a lab whose acknowledgements were lost): nothing more is stored
    const r0 = cpu();
    await send(bodies);
    // every re-sent callback was accepted (202) and queued under its deterministic job id, which
    // BullMQ may drop as a duplicate: wait until the queue is empty, then count
    await waitUntil("re-delivered callbacks consumed", 10 * 60_000, drained, 50);
    receiveCpuMs.push((cpu() - r0) / jobs);
    duplicates += (await count()) - want;
  }
  // the floor: what `next start` spends on a request that does nothing, from the same senders
  const healthzCpuMs: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const n = o.quick ? 500 : 2000;
    let next = 0;
    const h0 = cpu();
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, sender) => {
        while (next++ < n) await (await pools[sender % pools.length]!.request({ method: "GET", path: "/healthz" })).body.text();
      }),
    );
    healthzCpuMs.push((cpu() - h0) / n);
  }
  await pg.end();
  return { rates, duplicates, jobs, idleRssMB, cpuPerCallbackMs, receiveCpuMs, healthzCpuMs };
}

/**
 * The database alone: the rows a batch of callbacks stores (job rows, then their 212 test cases in
 * one `INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING`, as ingest writes them), in transactions
 * of 16 jobs, from `connections` connections at once, straight from `pg` (no HTTP, Redis, parsing
 * or statuses). This is the ceiling of any ingest path on this machine and PostgreSQL setup.
 * @returns test cases per second, one sample per repetition
 */
async function databaseFloor(o: BenchOptions, connections: number): Promise<number[]> {
  const url = await createDatabase("frontend", `fed-floor-${connections}`);
  const admin = await connect(url);
  const lab = (
    await admin.query<{ id: number }>(
      `INSERT INTO instance (name, url, api_token, callback_token, updated_at) VALUES ('lab-a', 'http://127.0.0.1:9', 'a', 'c', now()) RETURNING id`,
    )
  ).rows[0]!.id;
  const clients = await Promise.all(Array.from({ length: connections }, () => connect(url)));
  const jobs = o.quick ? 96 : 480;
  const batch = 16;
  const rates: number[] = [];
  let remote = 0;
  for (let rep = 0; rep < (o.quick ? 2 : 3); rep++) {
    const batches = Array.from({ length: jobs / batch }, () => Array.from({ length: batch }, () => ++remote));
    const t0 = nowMs();
    await Promise.all(
      clients.map(async (c) => {
        for (let b = batches.shift(); b; b = batches.shift()) {
          const remoteIds = b;
          await c.query("BEGIN");
          const ids = (
            await c.query<{ id: number }>(
              `INSERT INTO federated_job (instance_id, remote_id, name, device_type, submitter, state, health, state_rank, priority,
                 submit_time, definition, last_callback_at, updated_at)
               SELECT $1, r, 'bench', 'qemu', 'admin', 'Finished', 'Complete', 51, 50, now(), 'job_name: bench', now(), now()
               FROM unnest($2::int[]) AS r ORDER BY r RETURNING id`,
              [lab, remoteIds],
            )
          ).rows.map((r) => r.id);
          const col = (f: (job: number, k: number) => unknown) =>
            ids.flatMap((_, j) => Array.from({ length: CASES_PER_JOB }, (_, k) => f(j, k)));
          await c.query(
            `INSERT INTO federated_test_case (instance_id, job_id, remote_job_id, remote_case_id, suite, name, result, measurement, units)
             SELECT $1, c.job_id, c.remote_job_id, c.remote_case_id, c.suite, c.name, c.result, c.measurement::numeric, c.units
             FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
               AS c(job_id, remote_job_id, remote_case_id, suite, name, result, measurement, units)
             ON CONFLICT (instance_id, remote_job_id, remote_case_id) DO NOTHING`,
            [
              lab,
              col((j) => ids[j]),
              col((j) => remoteIds[j]),
              col((j, k) => String(remoteIds[j]! * 1000 + k)),
              col((_, k) => (k < 2 ? "lava" : `${Math.floor(k / 50)}_suite`)),
              col((_, k) => `case-${k}`),
              col((_, k) => (k % 9 === 0 ? "fail" : "pass")),
              col((_, k) => (k % 10 === 0 ? `${k}.5` : null)),
              col((_, k) => (k % 10 === 0 ? "ms" : "")),
            ],
          );
          await c.query("COMMIT");
        }
      }),
    );
    rates.push((jobs * CASES_PER_JOB) / ((nowMs() - t0) / 1000));
  }
  await Promise.all([...clients, admin].map((c) => c.end()));
  return rates;
}

/**
 * Runs the group: one `next start` (its own frontend database and queue prefix).
 * @returns test cases per second through the HTTP callback path (one sample per repetition), the
 *   cases added by the re-delivery of every callback (must be 0), and the frontend's idle RSS
 */
export async function benchFederationHttp(o: BenchOptions): Promise<Measure[]> {
  const r = await runIngest(o, 1, "fed-http");
  await cleanupAll();
  // the same without build metadata: no build, statuses or regressions to compute (the split of the cost)
  const plain = await runIngest(o, 1, "fed-http-plain", false);
  const floor1 = await databaseFloor(o, 1);
  const floor2 = await databaseFloor(o, 2);
  await cleanupAll();
  const label = `${r.jobs} LAVA callbacks × ${CASES_PER_JOB} cases, ${SENDERS} senders, POST /api/callbacks → BullMQ → PostgreSQL`;
  return [
    measure("federation-http", `ingest through next start: ${label}`, "cases/s", r.rates, {
      target: { stat: "p50", op: ">", value: 50_000 },
      note: "signed callbacks, real Redis, build metadata (regressions computed); issue target",
    }),
    measure(
      "federation-http",
      `ingest through next start, jobs without build metadata (no regression computation)`,
      "cases/s",
      plain.rates,
      {
        note: "the same callbacks without kernel.tree/git.branch/git.commit",
      },
    ),
    measure(
      "federation-http",
      "test cases added by re-delivering every callback (exactly once)",
      "cases",
      [r.duplicates + plain.duplicates],
      {
        target: { stat: "max", op: "<", value: 1 },
      },
    ),
    measure("federation-http", "frontend CPU per callback, received and ingested (next start)", "ms", r.cpuPerCallbackMs, {
      note: `with build metadata (${Math.round(median(plain.cpuPerCallbackMs) * 10) / 10} ms without); CPU time, not wall: what a callback costs whatever else runs`,
    }),
    measure(
      "federation-http",
      "frontend CPU per callback received only (re-delivery: checked, recorded, dropped as a duplicate)",
      "ms",
      r.receiveCpuMs,
      { note: "token/HMAC, JSON, zod, delivery id, BullMQ add, and next start's own handling of the request" },
    ),
    measure("federation-http", "frontend CPU per GET /healthz (next start's own cost of a request)", "ms", r.healthzCpuMs, {
      note: `${SENDERS} concurrent clients, a route that does nothing`,
    }),
    measure(
      "federation-http",
      "database alone: the same job and test case rows from 1 connection (no HTTP, Redis or parsing)",
      "cases/s",
      floor1,
      {
        note: "transactions of 16 jobs as the consumer writes them: the ceiling of one stream of ingest transactions",
      },
    ),
    measure("federation-http", "database alone: the same rows from 2 connections at once", "cases/s", floor2, {
      note: "PostgreSQL's ceiling on this machine for these rows and indexes, with nothing else running",
    }),
    measure("memory", "frontend RSS, idle (next start, after serving the warm-up callbacks)", "MB", r.idleRssMB, {
      target: { stat: "p50", op: "<", value: 200 },
      note: "process tree",
    }),
  ];
}

/**
 * `--consumers N`: the same ingest with 1, 2, … N `next start` processes (each one callback
 * consumer) on one Redis and one PostgreSQL, senders spread over them; one row per N with the
 * throughput and its ratio to N = 1. On one 2-core machine this shows where one machine saturates,
 * not how far several machines go (see docs/scaling.md).
 */
export async function benchConsumers(o: BenchOptions, max: number): Promise<Measure[]> {
  const out: Measure[] = [];
  let one = NaN;
  for (let n = 1; n <= max; n++) {
    const r = await runIngest(o, n, `consumers-${n}`);
    await cleanupAll();
    const m = measure("consumers", `ingest with ${n} frontend consumer process(es) on one Redis`, "cases/s", r.rates);
    if (n === 1) one = m.p50;
    m.note = `×${(m.p50 / one).toFixed(2)} of 1 process; ${r.duplicates} duplicates on re-delivery`;
    out.push(m);
  }
  return out;
}
