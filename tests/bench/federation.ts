/**
 * Federation (frontend database) costs. This group measures the layer the frontend's HTTP routes
 * (`/api/callbacks/<lab>` → BullMQ consumer, `/api/v1/jobs`, the results matrix) call — the
 * @magma/db frontend repositories on a real PostgreSQL database — and says so in every row (the
 * routes landed while this suite was written); next step: the same measures through `next start`.
 *  - ingest: 1 000 finished jobs × 200 test cases through `ingestFederatedJob` (the callback
 *    consumer's write, exactly once), 8 at a time, from 1 / 10 / 50 instances; test cases per second;
 *    a second delivery of every callback must insert nothing;
 *  - queries: 0.5 M (quick) or 1 M and 10 M (full) test cases from 50 instances loaded with COPY; p95 of the
 *    job list's first page, one lab's first page, and the results matrix grouped by kernel.tree.
 */
import {
  createFrontendDb,
  ingestFederatedJob,
  listFederatedJobs,
  resultsMatrix,
  type FrontendDb,
  type TIngestJobInput,
} from "@magma/db/frontend";
import { connect, copyRows, createDatabase, nowMs, onCleanup } from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const NOTE = "db layer; frontend HTTP path not measured yet";
const RESULTS = ["pass", "pass", "pass", "pass", "pass", "pass", "fail", "skip"];

async function instances(db: FrontendDb, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await db.instance.create({
      data: { name: `lab-${String(i).padStart(2, "0")}`, url: `http://127.0.0.1:${5000 + i}`, api_token: "x", callback_token: "y" },
    });
    ids.push(r.id);
  }
  return ids;
}

function jobInput(instanceId: number, remoteId: number, casesPerJob: number): TIngestJobInput {
  const now = new Date();
  return {
    instanceId,
    remoteId,
    name: `bench-${remoteId}`,
    deviceType: "qemu",
    submitter: "admin",
    state: "Finished",
    health: "Complete",
    stateRank: 51,
    priority: 50,
    metadata: { "kernel.tree": ["mainline", "next", "stable"][remoteId % 3]!, "kernel.version": `v6.${remoteId % 20}` },
    actualDevice: "qemu-01",
    submitTime: now,
    startTime: now,
    endTime: now,
    errorType: null,
    failureComment: null,
    definition: "job_name: bench\n",
    healthCheck: false,
    receivedAt: now,
    cases: Array.from({ length: casesPerJob }, (_, k) => ({
      remoteCaseId: String(remoteId * 1000 + k),
      suite: k < 5 ? "lava" : `${Math.floor(k / 50)}_suite`,
      name: `case-${k}`,
      result: RESULTS[k % RESULTS.length]!,
      measurement: k % 10 === 0 ? String(k) : null,
      units: k % 10 === 0 ? "ms" : "",
      testSet: null,
    })),
  };
}

async function ingestRate(o: BenchOptions, labs: number, rep: number): Promise<{ rate: number; replayInserted: number }> {
  const url = await createDatabase("frontend", `ingest_${labs}_${rep}`);
  const db = createFrontendDb(url, 10);
  onCleanup("frontend prisma client", () => db.$disconnect());
  const ids = await instances(db, labs);
  const jobs = o.quick ? 250 : 1000;
  const inputs = Array.from({ length: jobs }, (_, i) => jobInput(ids[i % labs]!, i + 1, 200));
  const drain = async (concurrency: number) => {
    let next = 0;
    let inserted = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < inputs.length) {
          const r = await ingestFederatedJob(db, inputs[next++]!);
          inserted += r.casesInserted;
        }
      }),
    );
    return inserted;
  };
  const t0 = nowMs();
  const inserted = await drain(8);
  const rate = inserted / ((nowMs() - t0) / 1000);
  if (inserted !== jobs * 200) throw new Error(`ingest stored ${inserted} cases, expected ${jobs * 200}`);
  const replayInserted = await drain(8);
  return { rate, replayInserted };
}

export async function benchFederation(o: BenchOptions): Promise<Measure[]> {
  const out: Measure[] = [];
  for (const labs of [1, 10, 50]) {
    const rates: number[] = [];
    for (let rep = 0; rep < (o.quick ? 1 : 3); rep++) {
      const r = await ingestRate(o, labs, rep);
      if (r.replayInserted !== 0) throw new Error(`re-delivered callbacks inserted ${r.replayInserted} cases (must be 0)`);
      rates.push(r.rate);
    }
    out.push(
      measure("federation", `ingest ${o.quick ? 250 : 1000} jobs × 200 cases from ${labs} instance(s), exactly once`, "cases/s", rates, {
        target: labs === 1 ? { stat: "p50", op: ">", value: 20_000 } : undefined,
        note: NOTE,
      }),
    );
  }

  const scales = o.quick ? [500_000] : [1_000_000, 10_000_000];
  for (const total of scales) {
    const url = await createDatabase("frontend", `query_${total}`);
    const db = createFrontendDb(url, 4);
    onCleanup("frontend prisma client", () => db.$disconnect());
    const ids = await instances(db, 50);
    const c = await connect(url);
    const casesPerJob = 200;
    const jobCount = total / casesPerJob;
    const base = Date.now() - jobCount * 60_000;
    const t0 = nowMs();
    await copyRows(
      c,
      "federated_job",
      [
        "id",
        "instance_id",
        "remote_id",
        "name",
        "device_type",
        "submitter",
        "state",
        "health",
        "state_rank",
        "priority",
        "metadata",
        "actual_device",
        "submit_time",
        "start_time",
        "end_time",
        "definition",
        "last_callback_at",
        "updated_at",
      ],
      (function* () {
        for (let j = 1; j <= jobCount; j++) {
          const t = new Date(base + j * 60_000).toISOString();
          yield [
            j,
            ids[j % 50],
            j,
            `bench-${j % 500}`,
            ["qemu", "x86", "arm64", "rpi4"][j % 4],
            "admin",
            "Finished",
            j % 9 ? "Complete" : "Incomplete",
            51,
            50,
            { "kernel.tree": ["mainline", "next", "stable"][j % 3], "kernel.version": `v6.${j % 20}` },
            "dev-01",
            t,
            t,
            t,
            "job_name: bench\n",
            t,
            t,
          ];
        }
      })(),
    );
    await c.query(`SELECT setval(pg_get_serial_sequence('federated_job', 'id'), ${jobCount})`);
    await copyRows(
      c,
      "federated_test_case",
      ["instance_id", "job_id", "remote_job_id", "remote_case_id", "suite", "name", "result"],
      (function* () {
        for (let j = 1; j <= jobCount; j++) {
          const inst = ids[j % 50];
          for (let k = 0; k < casesPerJob; k++)
            yield [
              inst,
              j,
              j,
              String(j * 1000 + k),
              k < 5 ? "lava" : `${Math.floor(k / 50)}_suite`,
              `case-${k}`,
              RESULTS[(j + k) % RESULTS.length],
            ];
        }
      })(),
    );
    // the per-job result rollup ingest keeps (same statement as the migration's backfill)
    await c.query(`UPDATE federated_job j SET pass_count = c.pass, fail_count = c.fail, skip_count = c.skip, unknown_count = c.unknown
      FROM (SELECT job_id, count(*) FILTER (WHERE result = 'pass')::int AS pass, count(*) FILTER (WHERE result = 'fail')::int AS fail,
                   count(*) FILTER (WHERE result = 'skip')::int AS skip, count(*) FILTER (WHERE result NOT IN ('pass', 'fail', 'skip'))::int AS unknown
            FROM federated_test_case WHERE suite <> 'lava' GROUP BY job_id) c
      WHERE c.job_id = j.id`);
    await c.query("VACUUM ANALYZE");
    const loadS = (nowMs() - t0) / 1000;
    const label = `${total / 1_000_000} M`;
    const time = async (fn: () => Promise<unknown>, n: number) => {
      for (let i = 0; i < 3; i++) await fn();
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = nowMs();
        await fn();
        xs.push(nowMs() - s);
      }
      return xs;
    };
    const n = o.quick ? 30 : 60;
    const target = { stat: "p95" as const, op: "<" as const, value: 150 };
    const note = `${NOTE}; loaded in ${Math.round(loadS)} s`;
    out.push(
      measure(
        "federation",
        `job list first page (100) over ${label} cases / ${jobCount.toLocaleString("en-US")} jobs, 50 labs`,
        "ms",
        await time(() => listFederatedJobs(db, null, {}, 100, null), n),
        { target, note },
      ),
    );
    out.push(
      measure(
        "federation",
        `one lab's job list first page over ${label} cases`,
        "ms",
        await time(() => listFederatedJobs(db, null, { lab: "lab-07" }, 100, null), n),
        { target, note: NOTE },
      ),
    );
    out.push(
      measure(
        "federation",
        `results matrix by kernel.tree over ${label} cases`,
        "ms",
        await time(() => resultsMatrix(db, null, "kernel.tree", {}), Math.min(n, 15)),
        { target, note: NOTE },
      ),
    );
    const plan =
      await c.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT COALESCE(j.metadata ->> 'kernel.tree', '') AS grp, i.name, j.device_type, COUNT(*), SUM(j.pass_count), SUM(j.fail_count)
      FROM federated_job j JOIN instance i ON i.id = j.instance_id GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3 LIMIT 500`);
    console.log(`[bench]   EXPLAIN ANALYZE results matrix (${label}):\n${plan.rows.map((r) => `      ${r["QUERY PLAN"]}`).join("\n")}`);
  }
  return out;
}
