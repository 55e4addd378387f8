/**
 * Builds, regressions and test history (issue 12) costs:
 *  - ingest: finished jobs × 200 test cases carrying build metadata, through `ingestFederatedJob`
 *    (the callback consumer's write: cases, the tests' statuses, regressions and fixes, one
 *    transaction), 8 at a time from 50 labs on one branch; test cases per second (db layer);
 *  - reads through the frontend's HTTP API (`next start` on its own database): 50 labs and 500
 *    (quick) or 10 000 (full) builds of one branch, 5 labs × 200 cases per build (0.5 M / 10 M test
 *    cases) loaded with COPY; p95 of the builds list, a build page's data (tRPC `builds.build`), the
 *    branch's regressions, one test's history, the job list (`/api/v1/jobs`) and the results matrix
 *    (tRPC `results.matrix`). The issue's scale is 10 M cases: the quick run uses 0.5 M and says so.
 */
import path from "node:path";
import { createFrontendDb, ingestFederatedJob, type TIngestJobInput } from "@magma/db/frontend";
import { ensureFrontendBuild } from "../../infra/demo/stack.ts";
import { ROOT, connect, copyRows, createDatabase, freePort, httpPool, nowMs, onCleanup, req, spawnProc, waitUntil, RUN_ID } from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const LABS = 50;
const CASES = 200;
/** Case k of a job: the first 5 are LAVA's own suite, the rest `<k/50>_suite.case-<k>`. */
const suiteOf = (k: number) => (k < 5 ? "lava" : `${Math.floor(k / 50)}_suite`);
/** Result of test k on build b: a few tests fail for a stretch of builds (regressions, then fixes). */
const resultOf = (b: number, k: number) => ((k * 7 + Math.floor(b / 25)) % 60 === 0 ? "fail" : k % 23 === 0 ? "skip" : "pass");

async function ingestRate(o: BenchOptions): Promise<{ rate: number; transitions: number }> {
  const url = await createDatabase("frontend", "results_ingest");
  const db = createFrontendDb(url, 10);
  onCleanup("frontend prisma client", () => db.$disconnect());
  const ids: number[] = [];
  for (let i = 0; i < LABS; i++)
    ids.push(
      (
        await db.instance.create({
          data: { name: `lab-${String(i).padStart(2, "0")}`, url: "http://127.0.0.1:9", api_token: "x", callback_token: "y" },
        })
      ).id,
    );
  const jobs = o.quick ? 250 : 2000;
  const t00 = Date.now();
  const inputs: TIngestJobInput[] = Array.from({ length: jobs }, (_, i) => {
    const b = Math.floor(i / 10); // 10 labs per build
    const at = new Date(t00 + b * 60_000);
    return {
      instanceId: ids[i % LABS]!,
      remoteId: i + 1,
      name: `bench-${i}`,
      deviceType: "qemu",
      submitter: "admin",
      state: "Finished",
      health: "Complete",
      stateRank: 51,
      priority: 50,
      metadata: {},
      actualDevice: null,
      submitTime: at,
      startTime: at,
      endTime: at,
      errorType: null,
      failureComment: null,
      definition: "job_name: bench\n",
      healthCheck: false,
      receivedAt: at,
      cases: Array.from({ length: CASES }, (_, k) => ({
        remoteCaseId: String(k),
        suite: suiteOf(k),
        name: `case-${k}`,
        result: resultOf(b * 10, k),
        measurement: null,
        units: "",
        testSet: null,
      })),
      build: { tree: "mainline", branch: "master", commit: `c${b}`, describe: null, url: null, kernelVersion: null },
    };
  });
  let next = 0;
  let inserted = 0;
  let transitions = 0;
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < inputs.length) {
        const r = await ingestFederatedJob(db, inputs[next++]!);
        inserted += r.casesInserted;
        transitions += r.transitions;
      }
    }),
  );
  const rate = inserted / ((nowMs() - t0) / 1000);
  if (inserted !== jobs * CASES) throw new Error(`ingest stored ${inserted} cases, expected ${jobs * CASES}`);
  return { rate, transitions };
}

/** Loads `builds` builds of mainline/master, 5 labs × 1 job × 200 cases each, statuses and regressions, with COPY. */
async function load(url: string, builds: number): Promise<void> {
  const c = await connect(url);
  await copyRows(
    c,
    "instance",
    ["id", "name", "url", "api_token", "callback_token", "updated_at"],
    (function* () {
      for (let i = 1; i <= LABS; i++)
        yield [i, `lab-${String(i - 1).padStart(2, "0")}`, "http://127.0.0.1:9", "x", "y", new Date().toISOString()];
    })(),
  );
  const base = Date.now() - builds * 60_000;
  const orderKey = (b: number) => Buffer.from(`t${new Date(base + b * 60_000).toISOString()}`, "utf8").toString("hex");
  await copyRows(
    c,
    "build",
    ["id", "tree", "branch", "commit", "first_seen", "order_key"],
    (function* () {
      for (let b = 1; b <= builds; b++)
        yield [b, "mainline", "master", `commit-${String(b).padStart(6, "0")}`, new Date(base + b * 60_000).toISOString(), orderKey(b)];
    })(),
  );
  const labOf = (b: number, k: number) => ((b * 5 + k) % LABS) + 1;
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
      "submit_time",
      "definition",
      "last_callback_at",
      "updated_at",
      "build_id",
      "pass_count",
      "fail_count",
      "skip_count",
    ],
    (function* () {
      for (let b = 1; b <= builds; b++) {
        const t = new Date(base + b * 60_000).toISOString();
        let pass = 0,
          fail = 0,
          skip = 0;
        for (let k = 5; k < CASES; k++) {
          const r = resultOf(b, k);
          if (r === "pass") pass++;
          else if (r === "fail") fail++;
          else skip++;
        }
        for (let l = 0; l < 5; l++) {
          const id = (b - 1) * 5 + l + 1;
          yield [
            id,
            labOf(b, l),
            id,
            "bench",
            "qemu",
            "admin",
            "Finished",
            "Complete",
            51,
            50,
            { "kernel.tree": "mainline", "git.branch": "master", "git.commit": `commit-${b}` },
            t,
            "job_name: bench\n",
            t,
            t,
            b,
            pass,
            fail,
            skip,
          ];
        }
      }
    })(),
  );
  await c.query(`SELECT setval(pg_get_serial_sequence('federated_job', 'id'), ${builds * 5})`);
  await copyRows(
    c,
    "federated_test_case",
    ["instance_id", "job_id", "remote_job_id", "remote_case_id", "suite", "name", "result"],
    (function* () {
      for (let b = 1; b <= builds; b++)
        for (let l = 0; l < 5; l++) {
          const id = (b - 1) * 5 + l + 1;
          for (let k = 0; k < CASES; k++) yield [labOf(b, l), id, id, String(k), suiteOf(k), `case-${k}`, k < 5 ? "pass" : resultOf(b, k)];
        }
    })(),
  );
  await copyRows(
    c,
    "build_test_status",
    [
      "build_id",
      "instance_id",
      "device_type",
      "test",
      "suite",
      "name",
      "tree",
      "branch",
      "order_key",
      "status",
      "pass",
      "fail",
      "skip",
      "job_ids",
    ],
    (function* () {
      for (let b = 1; b <= builds; b++)
        for (let l = 0; l < 5; l++) {
          const id = (b - 1) * 5 + l + 1;
          for (let k = 5; k < CASES; k++) {
            const r = resultOf(b, k);
            yield [
              b,
              labOf(b, l),
              "qemu",
              `${suiteOf(k)}.case-${k}`,
              suiteOf(k),
              `case-${k}`,
              "mainline",
              "master",
              orderKey(b),
              r,
              r === "pass" ? 1 : 0,
              r === "fail" ? 1 : 0,
              r === "skip" ? 1 : 0,
              `{${id}}`,
            ];
          }
        }
    })(),
  );
  // a regression or fix wherever a test's result changes from one build to the next (same rule, all labs)
  await copyRows(
    c,
    "regression",
    [
      "kind",
      "tree",
      "branch",
      "device_type",
      "test",
      "suite",
      "name",
      "from_build_id",
      "to_build_id",
      "order_key",
      "suspect",
      "labs",
      "job_ids",
    ],
    (function* () {
      for (let b = 2; b <= builds; b++)
        for (let k = 5; k < CASES; k++) {
          const [was, now] = [resultOf(b - 1, k), resultOf(b, k)];
          if (was === now || was === "skip" || now === "skip") continue;
          const labs = Array.from({ length: 5 }, (_, l) => `lab-${String(labOf(b, l) - 1).padStart(2, "0")}`);
          yield [
            now === "fail" ? "regression" : "fix",
            "mainline",
            "master",
            "qemu",
            `${suiteOf(k)}.case-${k}`,
            suiteOf(k),
            `case-${k}`,
            b - 1,
            b,
            orderKey(b),
            "code",
            `{${labs.join(",")}}`,
            `{${Array.from({ length: 5 }, (_, l) => (b - 1) * 5 + l + 1).join(",")}}`,
          ];
        }
    })(),
  );
  await c.query("VACUUM ANALYZE");
  await c.end();
}

export async function benchResults(o: BenchOptions): Promise<Measure[]> {
  const out: Measure[] = [];
  const ing = await ingestRate(o);
  out.push(
    measure(
      "results",
      `ingest ${o.quick ? 250 : 2000} jobs × 200 cases with build metadata from ${LABS} labs (statuses + regressions)`,
      "cases/s",
      [ing.rate],
      {
        target: { stat: "p50", op: ">", value: 50_000 },
        note: `db layer (ingestFederatedJob), 8 at a time; ${ing.transitions} regressions/fixes computed`,
      },
    ),
  );

  const builds = o.quick ? 500 : 10_000;
  const url = await createDatabase("frontend", `results_${builds}`);
  const t0 = nowMs();
  await load(url, builds);
  const loadS = Math.round((nowMs() - t0) / 1000);
  await ensureFrontendBuild();
  const port = await freePort();
  const proc = spawnProc(
    "frontend-results",
    [path.join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      MAGMA_FRONTEND_DATABASE_URL: url,
      MAGMA_QUEUE_PREFIX: `bench-results-${RUN_ID}`,
      MAGMA_RECONCILE_INTERVAL_MS: "0",
      MAGMA_LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    path.join(ROOT, "apps/frontend"),
  );
  const pool = httpPool(`http://127.0.0.1:${port}`, 1);
  await waitUntil(
    "frontend answers /healthz",
    60_000,
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok,
    200,
  );
  const time = async (p: string, n: number) => {
    for (let i = 0; i < 3; i++) await req(pool, "GET", p);
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = nowMs();
      await req(pool, "GET", p);
      xs.push(nowMs() - s);
    }
    return xs;
  };
  const n = o.quick ? 30 : 60;
  const target = { stat: "p95" as const, op: "<" as const, value: 150 };
  const label = `${builds.toLocaleString("en-US")} builds, ${(builds * 5 * CASES) / 1e6} M cases, ${LABS} labs`;
  const note = `HTTP (next start); loaded in ${loadS} s`;
  const mid = `commit-${String(Math.floor(builds / 2)).padStart(6, "0")}`;
  const trpc = (proc: string, input: unknown) => `/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input))}`;
  out.push(
    measure(
      "results",
      `GET /api/v1/builds first page (50) over ${label}`,
      "ms",
      await time("/api/v1/builds?tree=mainline&branch=master", n),
      { target, note },
    ),
  );
  out.push(
    measure(
      "results",
      `build page data (tRPC builds.build) over ${label}`,
      "ms",
      await time(trpc("builds.build", { tree: "mainline", branch: "master", commit: mid }), n),
      { target, note },
    ),
  );
  out.push(
    measure(
      "results",
      `GET /api/v1/regressions first page (200) of the branch over ${label}`,
      "ms",
      await time("/api/v1/regressions?tree=mainline&branch=master", n),
      { target, note },
    ),
  );
  out.push(
    measure(
      "results",
      `GET /api/v1/tests/history first page (50 builds) over ${label}`,
      "ms",
      await time("/api/v1/tests/history?test=1_suite.case-60&tree=mainline&branch=master", n),
      { target, note },
    ),
  );
  // the pages every user opens first: the federated job list and the results matrix
  out.push(
    measure("results", `GET /api/v1/jobs first page (100) over ${label}`, "ms", await time("/api/v1/jobs?limit=100", n), { target, note }),
  );
  out.push(
    measure(
      "results",
      `results matrix page data (tRPC results.matrix by kernel.tree) over ${label}`,
      "ms",
      await time(trpc("results.matrix", { groupBy: "kernel.tree" }), n),
      { target, note },
    ),
  );
  await proc.stop();
  return out;
}
