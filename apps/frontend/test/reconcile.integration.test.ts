import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFederatedJob, getReconcileCursor, upsertInstances, type TInstanceRecord } from "@magma/db/frontend";
import type { TFinishedJobRef } from "@magma/protocol";
import pino from "pino";
import { fakeLab, json, notifyPayload, setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lab: Awaited<ReturnType<typeof fakeLab>>;
let record: TInstanceRecord & { url: string };
let up = true;
const requests: string[] = [];
// the lab's finished jobs: 1..5, job 3 with 5 cases, the others 3 (+1 lava case each)
const feed: TFinishedJobRef[] = [1, 2, 3, 4, 5].map((id) => ({
  id,
  end_time: `2026-11-23T10:00:0${id}.000123Z`,
  health: "Complete",
  test_case_count: id === 3 ? 6 : 4,
  log_line_count: 100,
}));
const payloadOf = (id: number) => notifyPayload({ id }, id === 3 ? 5 : 3);

type Svc = typeof import("../src/server/services/reconcile-instance.ts");
let svc: Svc;
type Ingest = typeof import("../src/server/services/ingest-callback.ts");
let ingest: Ingest;
const log = pino({ level: "silent" });

beforeAll(async () => {
  envCtl = await setupTestEnv();
  lab = await fakeLab((req, _body, res) => {
    requests.push(req.url ?? "");
    if (!up) return json(res, 503, { message: "down" });
    const u = new URL(req.url ?? "/", "http://lab");
    if (req.headers.authorization !== "Token api-a") return json(res, 401, { message: "Invalid token." });
    if (u.pathname === "/api/v0.2/magma/finished-jobs/") {
      const since = u.searchParams.get("since");
      const afterId = Number(u.searchParams.get("after_id") ?? 0);
      const limit = Number(u.searchParams.get("limit"));
      const rows = feed.filter((j) => !since || j.end_time > since || (j.end_time === since && j.id > afterId)).slice(0, limit);
      const last = rows.at(-1);
      return json(res, 200, { results: rows, next: last && rows.length === limit ? { since: last.end_time, after_id: last.id } : null });
    }
    const m = /^\/api\/v0\.2\/magma\/jobs\/(\d+)\/federation\/$/.exec(u.pathname);
    if (m) return json(res, 200, payloadOf(Number(m[1])));
    return json(res, 404, { message: "nope" });
  });
  const { db } = await import("../src/server/db.ts");
  record = (
    await upsertInstances(db(), [{ name: "lab-a", url: lab.url, api_token: "api-a", callback_token: "secret-a-123" }])
  )[0]! as TInstanceRecord & { url: string };
  svc = await import("../src/server/services/reconcile-instance.ts");
  ingest = await import("../src/server/services/ingest-callback.ts");
});

afterAll(async () => {
  await lab?.close();
  await envCtl?.cleanup();
});

const db = async () => (await import("../src/server/db.ts")).db();

describe("reconcileInstance", () => {
  it("re-ingests finished jobs the frontend lacks or holds stale, and leaves complete ones alone", async () => {
    // job 1 arrived by callback; job 2 only its Running callback; job 3 Finished but missing cases
    await ingest.ingestCallback({
      db: await db(),
      job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload: payloadOf(1) },
      log,
    });
    await ingest.ingestCallback({
      db: await db(),
      job: {
        instance: "lab-a",
        receivedAt: new Date().toISOString(),
        payload: notifyPayload({ id: 2, state: 3, state_string: "Running", health: 0, health_string: "Unknown", results: {} }),
      },
      log,
    });
    await ingest.ingestCallback({
      db: await db(),
      job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload: notifyPayload({ id: 3 }, 2) },
      log,
    });
    requests.length = 0;
    const r = await svc.reconcileInstance({ db: await db(), lab: record, log, timeoutMs: 2000, pageSize: 2 });
    expect(r).toEqual({ lab: "lab-a", checked: 5, repaired: 4, error: null });
    expect(requests.filter((u) => u.includes("/federation/"))).toEqual([
      "/api/v0.2/magma/jobs/2/federation/",
      "/api/v0.2/magma/jobs/3/federation/",
      "/api/v0.2/magma/jobs/4/federation/",
      "/api/v0.2/magma/jobs/5/federation/",
    ]);
    for (const id of [1, 2, 3, 4, 5]) {
      const j = await getFederatedJob(await db(), null, "lab-a", id);
      expect(j?.state).toBe("Finished");
      expect(j?.suites.flatMap((s) => s.cases)).toHaveLength(id === 3 ? 6 : 4);
    }
    expect(await getReconcileCursor(await db(), record.id)).toEqual({ endTime: feed[4]!.end_time, jobId: 5 });
  });

  it("a second pass repairs nothing and re-reads only the overlap window", async () => {
    requests.length = 0;
    const r = await svc.reconcileInstance({ db: await db(), lab: record, log, timeoutMs: 2000 });
    expect(r).toMatchObject({ checked: 5, repaired: 0, error: null });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toContain("since=2026-11-23T09%3A58%3A05.000Z");
  });

  it("keeps the cursor when the lab is down and catches up once it is back", async () => {
    feed.push({ id: 6, end_time: "2026-11-23T10:00:09.000000Z", health: "Incomplete", test_case_count: 4, log_line_count: 7 });
    up = false;
    const down = await svc.reconcileInstance({ db: await db(), lab: record, log, timeoutMs: 2000 });
    expect(down.error).toContain("HTTP 503");
    expect(await getReconcileCursor(await db(), record.id)).toEqual({ endTime: feed[4]!.end_time, jobId: 5 });
    up = true;
    const back = await svc.reconcileInstance({ db: await db(), lab: record, log, timeoutMs: 2000 });
    expect(back).toMatchObject({ repaired: 1, error: null });
    expect(await getReconcileCursor(await db(), record.id)).toEqual({ endTime: "2026-11-23T10:00:09.000000Z", jobId: 6 });
  });

  it("needsRepair compares state, health and the number of cases", () => {
    const ref = feed[0]!;
    expect(svc.needsRepair(ref, undefined)).toBe(true);
    expect(svc.needsRepair(ref, { state: "Running", health: "Unknown", caseCount: 4 })).toBe(true);
    expect(svc.needsRepair(ref, { state: "Finished", health: "Incomplete", caseCount: 4 })).toBe(true);
    expect(svc.needsRepair(ref, { state: "Finished", health: "Complete", caseCount: 3 })).toBe(true);
    expect(svc.needsRepair(ref, { state: "Finished", health: "Complete", caseCount: 4 })).toBe(false);
  });
});
