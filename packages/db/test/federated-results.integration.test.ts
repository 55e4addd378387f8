import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFrontendDb, ingestFederatedJob, resultsMatrix, type FrontendDb, type TIngestJobInput } from "../src/frontend/index.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing/index.ts";

let tdb: TestDatabase;
let db: FrontendDb;
let instanceId: number;
beforeAll(async () => {
  tdb = await createTestDatabase("frontend");
  db = createFrontendDb(tdb.url, 2);
  instanceId = (await db.instance.create({ data: { name: "lab-a", url: "http://127.0.0.1:1", api_token: "a", callback_token: "c" } })).id;
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

function job(remoteId: number, state: string, rank: number, cases: [string, string, string, string | null][]): TIngestJobInput {
  const t = new Date("2026-01-01T00:00:00Z");
  return {
    instanceId,
    remoteId,
    name: `job-${remoteId}`,
    deviceType: "qemu",
    submitter: "admin",
    state,
    health: state === "Finished" ? "Complete" : "Unknown",
    stateRank: rank,
    priority: 50,
    metadata: { "kernel.tree": "mainline" },
    actualDevice: "qemu-01",
    submitTime: t,
    startTime: t,
    endTime: null,
    errorType: null,
    failureComment: null,
    definition: "job_name: x\n",
    healthCheck: false,
    receivedAt: t,
    cases: cases.map(([id, suite, result, measurement]) => ({
      remoteCaseId: id,
      suite,
      name: `case-${id}`,
      result,
      measurement,
      units: measurement ? "s" : "",
      testSet: null,
    })),
  };
}

describe("federated results: exactly-once cases and the per-job rollup", () => {
  it("counts each case once across re-deliveries and sums the rollup in the matrix (lava suite excluded)", async () => {
    const first = await ingestFederatedJob(
      db,
      job(7, "Running", 30, [
        ["1", "lava", "pass", "1.5"],
        ["2", "0_smoke", "pass", null],
      ]),
    );
    expect(first).toMatchObject({ created: true, casesInserted: 2 });
    const cases: [string, string, string, string | null][] = [
      ["1", "lava", "pass", "1.5"],
      ["2", "0_smoke", "pass", null],
      ["3", "0_smoke", "fail", null],
      ["4", "0_smoke", "skip", null],
      ["5", "0_smoke", "unknown", "42"],
    ];
    const fin = await ingestFederatedJob(db, job(7, "Finished", 51, cases));
    expect(fin).toMatchObject({ updated: true, casesInserted: 3 });
    expect((await ingestFederatedJob(db, job(7, "Finished", 51, cases))).casesInserted).toBe(0);
    expect(await db.federatedTestCase.count()).toBe(5);
    const stored = await db.federatedTestCase.findFirstOrThrow({ where: { remote_case_id: "5" } });
    expect(stored.measurement?.toString()).toBe("42");
    const m = await resultsMatrix(db, null, "kernel.tree", {});
    expect(m).toEqual([
      { group: "mainline", lab: "lab-a", deviceType: "qemu", jobs: 1, counts: { pass: 1, fail: 1, skip: 1, unknown: 1 } },
    ]);
  });
});
