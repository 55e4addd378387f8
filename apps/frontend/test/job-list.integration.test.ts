import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestFederatedJob, upsertInstances, type TIngestJobInput } from "@magma/db/frontend";
import { setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;

function job(instanceId: number, remoteId: number, minute: number, over: Partial<TIngestJobInput> = {}): TIngestJobInput {
  return {
    instanceId,
    remoteId,
    name: `smoke ${remoteId}`,
    deviceType: "qemu",
    submitter: "admin",
    state: "Finished",
    health: "Complete",
    stateRank: 51,
    priority: 50,
    metadata: { "kernel.tree": "mainline", "kernel.branch": remoteId % 2 ? "master" : "next" },
    actualDevice: "qemu-01",
    // several jobs share a submit time, so the id tie-break of the keyset matters
    submitTime: new Date(Date.UTC(2026, 10, 23, 6, Math.floor(minute / 2))),
    startTime: null,
    endTime: null,
    errorType: null,
    failureComment: null,
    definition: "job_name: x",
    healthCheck: false,
    receivedAt: new Date(),
    cases: [],
    ...over,
  };
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  const [a, b] = await upsertInstances(db(), [
    { name: "lab-a", url: "http://127.0.0.1:9", api_token: "t", callback_token: "cb-aaaaaaaa" },
    { name: "lab-b", url: "http://127.0.0.1:9", api_token: "t", callback_token: "cb-bbbbbbbb" },
  ]);
  for (let i = 1; i <= 9; i++) await ingestFederatedJob(db(), job(i <= 5 ? a!.id : b!.id, i, i));
  await ingestFederatedJob(db(), job(a!.id, 20, 30, { health: "Incomplete", name: "Boot 100%_test", deviceType: "bbb" }));
  await ingestFederatedJob(db(), job(b!.id, 21, 31, { state: "Running", health: "Unknown", stateRank: 30 }));
});

afterAll(async () => {
  await envCtl?.cleanup();
});

const list = async (query: Record<string, unknown>) => {
  const { listJobs } = await import("../src/server/services/list-jobs.ts");
  const { ZJobListQuery } = await import("../src/server/services/job-list-query.ts");
  const { db } = await import("../src/server/db.ts");
  return listJobs({ db: db(), query: ZJobListQuery.parse(query), viewer: null });
};

describe("federated job list", () => {
  it("walks every job exactly once with keyset pagination, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list({ limit: 3, cursor });
      seen.push(...page.results.map((j) => `${j.lab}#${j.id}`));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(11);
    expect(new Set(seen).size).toBe(11);
    expect(pages).toBe(4);
    expect(seen[0]).toBe("lab-b#21");
    expect(seen[1]).toBe("lab-a#20");
  });

  it("filters by lab, state, health, device type, job name and metadata", async () => {
    expect((await list({ lab: "lab-b" })).results.map((j) => j.id).sort((x, y) => x - y)).toEqual([6, 7, 8, 9, 21]);
    expect((await list({ state: "Running" })).results.map((j) => j.id)).toEqual([21]);
    expect((await list({ health: "Incomplete" })).results.map((j) => j.id)).toEqual([20]);
    expect((await list({ deviceType: "bbb" })).results.map((j) => j.id)).toEqual([20]);
    // LIKE wildcards in the search text are literal
    expect((await list({ jobName: "100%_" })).results.map((j) => j.id)).toEqual([20]);
    // case-insensitive substring
    expect((await list({ jobName: "SMOKE 2" })).results.map((j) => j.id).sort((x, y) => x - y)).toEqual([2, 21]);
    const next = await list({ metadata: { "kernel.branch": "next" }, lab: "lab-a" });
    expect(next.results.map((j) => j.id).sort((x, y) => x - y)).toEqual([2, 4, 20]);
  });

  it("rejects a forged cursor", async () => {
    await expect(list({ cursor: "not-a-cursor" })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("serves /api/v1/jobs with next_cursor and 400 on bad params", async () => {
    const route = await import("../src/app/api/v1/jobs/route.ts");
    const res = await route.GET(new Request("http://f/api/v1/jobs?lab=lab-a&metadata.kernel.branch=master&limit=2"));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.results).toHaveLength(2);
    expect(body.results[0]).toMatchObject({ lab: "lab-a", id: 5, device_type: "qemu", metadata: { "kernel.branch": "master" } });
    const res2 = await route.GET(
      new Request(`http://f/api/v1/jobs?lab=lab-a&metadata.kernel.branch=master&limit=2&cursor=${body.next_cursor}`),
    );
    const body2 = await res2.json();
    expect(body2.results.map((j: { id: number }) => j.id)).toEqual([1]);
    expect(body2.next_cursor).toBeNull();

    const bad = await route.GET(new Request("http://f/api/v1/jobs?state=Done"));
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/state "Done"/);
    const unknown = await route.GET(new Request("http://f/api/v1/jobs?colour=red"));
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).message).toMatch(/unknown parameter "colour"/);
    const lim = await route.GET(new Request("http://f/api/v1/jobs?limit=5000"));
    expect(lim.status).toBe(400);
  });

  it("serves one job at /api/v1/jobs/<lab>/<id>, 404 for an unknown one", async () => {
    const route = await import("../src/app/api/v1/jobs/[lab]/[id]/route.ts");
    const ok = await route.GET(new Request("http://f/"), { params: Promise.resolve({ lab: "lab-a", id: "20" }) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).health).toBe("Incomplete");
    const missing = await route.GET(new Request("http://f/"), { params: Promise.resolve({ lab: "lab-a", id: "999" }) });
    expect(missing.status).toBe(404);
  });

  it("groups results by a metadata key", async () => {
    const { getResultsMatrix } = await import("../src/server/services/get-results-matrix.ts");
    const { db } = await import("../src/server/db.ts");
    const m = await getResultsMatrix({ db: db(), groupBy: "kernel.branch", filter: {}, viewer: null });
    expect(m.keys).toEqual(["kernel.branch", "kernel.tree"]);
    expect(m.rows.find((r) => r.group === "next" && r.lab === "lab-a" && r.deviceType === "qemu")?.jobs).toBe(2);
  });
});
