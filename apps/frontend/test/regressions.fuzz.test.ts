import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  computeTransitions,
  ingestFederatedJob,
  ingestFederatedJobs,
  listRegressions,
  upsertInstances,
  type TIngestJobInput,
} from "@magma/db/frontend";
import { setupTestEnv } from "./helpers.ts";

/**
 * Property-based check of the regressions computed at ingest (issue 12): for random histories —
 * labs, commits, device types, tests, several jobs per build and lab (so flaky statuses), Incomplete
 * jobs — delivered in a random order with duplicates, one at a time, 4 at a time (the consumer's
 * concurrency) or in batches of random size, 2 transactions at a time (the consumer's group commit,
 * duplicates of one job within a batch included), the stored regressions and fixes equal those
 * computed from the whole history at once (every build's statuses, each lab's previous build that
 * ran the test, the same per-build rule). This checks the incremental neighbourhood recomputation.
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 200);
const DB_RUNS = Math.max(15, Math.round(RUNS / 8));
const LABS = ["lab-a", "lab-b", "lab-c"] as const;
const TESTS = ["t1", "t2", "t3"];
const DTS = ["qemu", "bbb"];

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
const db = async () => (await import("../src/server/db.ts")).db();
let instanceIds: Record<string, number>;

interface TJob {
  lab: (typeof LABS)[number];
  commit: number;
  dt: string;
  complete: boolean;
  results: Record<string, "pass" | "fail" | "skip">;
}

const ZJob = fc.record({
  lab: fc.constantFrom(...LABS),
  commit: fc.integer({ min: 1, max: 5 }),
  dt: fc.constantFrom(...DTS),
  complete: fc.integer({ min: 0, max: 9 }).map((n) => n > 1),
  results: fc.dictionary(fc.constantFrom(...TESTS), fc.constantFrom("pass" as const, "fail" as const, "skip" as const), { minKeys: 1 }),
});

/** The regressions of the whole history, computed at once with the same per-build rule. */
function oracle(jobs: (TJob & { id: number })[]): string[] {
  type Status = { status: string; jobIds: number[] };
  const st = new Map<string, Status>(); // commit|lab|dt|test
  const agg = new Map<string, { pass: number; fail: number; jobIds: number[] }>();
  for (const j of jobs) {
    if (!j.complete) continue;
    for (const [t, r] of Object.entries(j.results)) {
      const k = `${j.commit}|${j.lab}|${j.dt}|0_s.${t}`;
      const a = agg.get(k) ?? { pass: 0, fail: 0, jobIds: [] };
      if (r === "pass") a.pass++;
      if (r === "fail") a.fail++;
      if (!a.jobIds.includes(j.id)) a.jobIds.push(j.id);
      agg.set(k, a);
    }
  }
  for (const [k, a] of agg)
    st.set(k, { status: a.pass && a.fail ? "flaky" : a.fail ? "fail" : a.pass ? "pass" : "skip", jobIds: a.jobIds.sort((x, y) => x - y) });
  const out: string[] = [];
  for (const dt of DTS)
    for (const t of TESTS.map((x) => `0_s.${x}`))
      for (let x = 1; x <= 5; x++) {
        const rows = LABS.flatMap((lab) => {
          const cur = st.get(`${x}|${lab}|${dt}|${t}`);
          if (!cur) return [];
          let prev: { b: number; s: Status } | null = null;
          for (let p = x - 1; p >= 1 && !prev; p--) {
            const s = st.get(`${p}|${lab}|${dt}|${t}`);
            if (s && (s.status === "pass" || s.status === "fail")) prev = { b: p, s };
          }
          return [
            {
              test: t,
              build_id: x,
              order_key: String(x),
              suite: "0_s",
              name: t.slice(4),
              test_set: null,
              lab,
              status: cur.status,
              job_ids: cur.jobIds,
              prev_build: prev?.b ?? null,
              prev_order: prev ? String(prev.b) : null,
              prev_status: prev?.s.status ?? null,
            },
          ];
        });
        for (const r of computeTransitions(rows))
          out.push(`${r.kind} ${r.test} ${dt} ${r.fromBuildId}→${r.toBuildId} ${r.suspect} ${r.labs.join(",")} ${r.jobIds.join(",")}`);
      }
  return out.sort();
}

/** Every (commit, lab, device type, test)'s status row as the whole history sums it: "c|lab|dt|test status pass/fail/skip jobs". */
function statusOracle(jobs: (TJob & { id: number })[]): string[] {
  const agg = new Map<string, { pass: number; fail: number; skip: number; jobIds: number[] }>();
  for (const j of jobs) {
    if (!j.complete) continue;
    for (const [t, r] of Object.entries(j.results)) {
      const k = `${j.commit}|${j.lab}|${j.dt}|0_s.${t}`;
      const a = agg.get(k) ?? { pass: 0, fail: 0, skip: 0, jobIds: [] };
      a[r]++;
      a.jobIds.push(j.id);
      agg.set(k, a);
    }
  }
  return [...agg]
    .map(([k, a]) => {
      const status = a.pass && a.fail ? "flaky" : a.fail ? "fail" : a.pass ? "pass" : "skip";
      return `${k} ${status} ${a.pass}/${a.fail}/${a.skip} ${a.jobIds.sort((x, y) => x - y).join(",")}`;
    })
    .sort();
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  await upsertInstances(
    await db(),
    LABS.map((name) => ({ name, url: "http://127.0.0.1:9", api_token: name, callback_token: name })),
  );
  const rows = await (await db()).instance.findMany();
  instanceIds = Object.fromEntries(rows.map((r) => [r.name, r.id]));
});
afterAll(async () => {
  await envCtl?.cleanup();
});

describe("regressions at ingest (property-based, real PostgreSQL)", () => {
  let run = 0;
  let nextId = 1;
  it(
    "any delivery order, with duplicates, gives the regressions of the whole history",
    { timeout: Math.max(120_000, DB_RUNS * 4000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(ZJob, { minLength: 1, maxLength: 24 }),
          fc.infiniteStream(fc.nat()),
          fc.constantFrom("serial" as const, "parallel" as const, "batched" as const),
          async (model, rnd, mode) => {
            const tree = `fuzz-${++run}`;
            const jobs = model.map((j) => ({ ...j, id: nextId++ }));
            const deliveries = [...jobs, ...jobs.filter(() => rnd.next().value % 4 === 0)];
            for (let i = deliveries.length - 1; i > 0; i--) {
              const k = rnd.next().value % (i + 1);
              [deliveries[i], deliveries[k]] = [deliveries[k]!, deliveries[i]!];
            }
            const d = await db();
            const inputOf = (j: (typeof deliveries)[number]): TIngestJobInput => ({
              instanceId: instanceIds[j.lab]!,
              remoteId: j.id,
              name: "fuzz",
              deviceType: j.dt,
              submitter: "fuzz",
              state: "Finished",
              health: j.complete ? "Complete" : "Incomplete",
              stateRank: 51,
              priority: 50,
              metadata: {},
              actualDevice: null,
              submitTime: new Date(Date.UTC(2026, 0, 1, 0, j.commit)),
              startTime: null,
              endTime: null,
              errorType: j.complete ? null : "Infrastructure",
              failureComment: null,
              definition: "",
              healthCheck: false,
              receivedAt: new Date(),
              cases: Object.entries(j.results).map(([t, r], i) => ({
                remoteCaseId: String(i),
                suite: "0_s",
                name: t,
                result: r,
                measurement: null,
                units: "",
                testSet: null,
              })),
              build: { tree, branch: "master", commit: `c${j.commit}`, describe: null, url: null, kernelVersion: null },
            });
            const deliver = async (j: (typeof deliveries)[number]) => {
              await ingestFederatedJob(d, inputOf(j));
            };
            if (mode === "batched") {
              // the consumer's group commit: batches of 1–8 callbacks, 2 transactions at a time
              const batches: (typeof deliveries)[] = [];
              for (let i = 0; i < deliveries.length;) {
                const n = 1 + (rnd.next().value % 8);
                batches.push(deliveries.slice(i, i + n));
                i += n;
              }
              await Promise.all(
                Array.from({ length: 2 }, async () => {
                  for (let b = batches.shift(); b; b = batches.shift()) await ingestFederatedJobs(d, b.map(inputOf));
                }),
              );
            } else if (mode === "parallel") {
              // the consumer's concurrency: 4 deliveries at a time
              const queue = [...deliveries];
              await Promise.all(
                Array.from({ length: 4 }, async () => {
                  for (let j = queue.shift(); j; j = queue.shift()) await deliver(j);
                }),
              );
            } else {
              for (const j of deliveries) await deliver(j);
            }
            const stored = (await listRegressions(d, { tree, branch: "master" }, 1000, null)).results.map(
              (r) =>
                `${r.kind} ${r.test} ${r.device_type} ${r.from_commit.slice(1)}→${r.to_commit.slice(1)} ${r.suspect} ${r.labs.join(",")} ${r.jobs
                  .map((x) => x.id)
                  .sort((a, b) => a - b)
                  .join(",")}`,
            );
            expect(stored.sort()).toEqual(oracle(jobs));
            // the statuses themselves (added to at ingest for new jobs, re-summed otherwise) equal the sums of the history
            const statuses = await d.$queryRaw<{ row: string }[]>`
              SELECT substr(b.commit, 2) || '|' || i.name || '|' || s.device_type || '|' || s.test || ' ' || s.status || ' ' ||
                     s.pass || '/' || s.fail || '/' || s.skip || ' ' ||
                     array_to_string(ARRAY(SELECT j.remote_id FROM federated_job j WHERE j.id = ANY(s.job_ids) ORDER BY j.remote_id), ',') AS row
              FROM build_test_status s JOIN build b ON b.id = s.build_id JOIN instance i ON i.id = s.instance_id
              WHERE b.tree = ${tree}`;
            expect(statuses.map((r) => r.row).sort()).toEqual(statusOracle(jobs));
          },
        ),
        { numRuns: DB_RUNS },
      );
    },
  );
});
