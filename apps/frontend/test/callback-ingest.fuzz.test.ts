import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertInstances } from "@magma/db/frontend";
import { ZNotifyPayload, type TNotifyPayload } from "@magma/protocol";
import pino from "pino";
import { stringify } from "yaml";
import { notifyPayload, setupTestEnv } from "./helpers.ts";

/**
 * Property-based fuzzing of the callback ingest (issue 5): arbitrary bodies never crash the parser,
 * and any sequence of deliveries — duplicated, reordered, stale, partial — leaves each job and each
 * test case stored exactly once, at the highest state delivered. `npm run fuzz` raises the runs.
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 200);
const DB_RUNS = Math.max(20, Math.round(RUNS / 10));
const log = pino({ level: "silent" });

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
type Ingest = typeof import("../src/server/services/ingest-callback.ts");
let ingest: Ingest;
const db = async () => (await import("../src/server/db.ts")).db();

beforeAll(async () => {
  envCtl = await setupTestEnv();
  await upsertInstances(await db(), [{ name: "lab-a", url: "http://127.0.0.1:9", api_token: "api-a", callback_token: "secret-a-123" }]);
  ingest = await import("../src/server/services/ingest-callback.ts");
});
afterAll(async () => {
  await envCtl?.cleanup();
});

describe("callback parsing (property-based)", () => {
  it("never throws on arbitrary bodies and results", { timeout: Math.max(30_000, RUNS * 20) }, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.object(),
          fc.record({
            results: fc.dictionary(
              fc.string(),
              fc.oneof(
                fc.string(),
                fc.jsonValue().map((v) => stringify(v)),
              ),
            ),
          }),
        ),
        (body) => {
          const p = ZNotifyPayload.safeParse(body);
          if (p.success) ingest.parseResults(p.data.results);
          const r = body && typeof body === "object" ? (body as { results?: Record<string, string> }).results : undefined;
          if (r && typeof r === "object" && !Array.isArray(r) && Object.values(r).every((v) => typeof v === "string")) {
            const { cases, skipped } = ingest.parseResults(r);
            for (const c of cases) expect(typeof c.remoteCaseId).toBe("string");
            expect(Array.isArray(skipped)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** A Finished payload carrying the cases with the given ids (suite `0_smoke`, names from the ids). */
function payloadWith(id: number, caseIds: number[], over: Partial<TNotifyPayload> = {}): TNotifyPayload {
  const list = caseIds.map((c) => ({
    id: String(c),
    job: String(id),
    name: `case-${c}`,
    suite: "0_smoke",
    result: c % 3 === 0 ? "fail" : "pass",
    measurement: "None",
    unit: "",
    metadata: {},
  }));
  return notifyPayload({ id, results: list.length ? { "0_smoke": stringify(list) } : {}, ...over });
}

describe("callback ingest (property-based, real PostgreSQL)", () => {
  let nextJob = 1000;
  it(
    "any sequence of duplicated, reordered, stale and partial deliveries stores each job and case once, at the highest state",
    { timeout: Math.max(60_000, DB_RUNS * 400) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 0, maxLength: 12 }),
          fc.array(
            fc.record({
              kind: fc.constantFrom("running", "finished", "partial"),
              pick: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
              times: fc.integer({ min: 1, max: 3 }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (caseIds, deliveries) => {
            const id = nextJob++;
            const seen = new Set<number>();
            let finished = false;
            for (const d of deliveries) {
              const ids = d.kind === "finished" ? caseIds : d.kind === "partial" ? caseIds.filter((_, i) => d.pick[i]) : [];
              const payload =
                d.kind === "running"
                  ? payloadWith(id, [], {
                      state: 3,
                      state_string: "Running",
                      health: 0,
                      health_string: "Unknown",
                      status: 1,
                      status_string: "running",
                      end_time: "None",
                    })
                  : payloadWith(id, ids);
              if (d.kind !== "running") {
                finished = true;
                ids.forEach((c) => seen.add(c));
              }
              for (let t = 0; t < d.times; t++)
                await ingest.ingestCallback({
                  db: await db(),
                  job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload },
                  log,
                });
            }
            const rows = await (
              await db()
            ).$queryRaw<{ state: string; n: number; rollup: number; jobs: number }[]>`
            SELECT j.state, (SELECT count(*)::int FROM federated_test_case c WHERE c.job_id = j.id) AS n,
                   (j.pass_count + j.fail_count + j.skip_count + j.unknown_count) AS rollup,
                   (SELECT count(*)::int FROM federated_job x WHERE x.remote_id = ${id}) AS jobs
            FROM federated_job j WHERE j.remote_id = ${id}`;
            expect(rows).toHaveLength(1);
            expect(rows[0]!.jobs).toBe(1);
            expect(rows[0]!.state).toBe(finished ? "Finished" : "Running");
            expect(rows[0]!.n).toBe(seen.size);
            expect(rows[0]!.rollup).toBe(seen.size);
          },
        ),
        { numRuns: DB_RUNS },
      );
    },
  );
});
