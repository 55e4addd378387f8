import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES, callbackJobId } from "@magma/protocol";
import { getFederatedJob, upsertInstances } from "@magma/db/frontend";
import pino from "pino";
import { notifyPayload, setupTestEnv, waitFor } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
let redis: Redis;
let queue: Queue;
type Route = typeof import("../src/app/api/callbacks/[lab]/route.ts");
let route: Route;

const call = (lab: string, body: unknown, headers: Record<string, string> = { "x-magma-token": "secret-a-123" }) =>
  route.POST(
    new Request(`http://frontend/api/callbacks/${lab}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    {
      params: Promise.resolve({ lab }),
    },
  );

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [{ name: "lab-a", url: "http://127.0.0.1:9", api_token: "api-a", callback_token: "secret-a-123" }]);
  route = await import("../src/app/api/callbacks/[lab]/route.ts");
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE_NAMES.callbacks, { connection: redis, prefix: envCtl.prefix });
});

afterAll(async () => {
  await consumer?.close();
  await queue?.close();
  redis?.disconnect();
  await envCtl?.cleanup();
});

describe("callback receiver route", () => {
  it("rejects an unknown lab with 404", async () => {
    const res = await call("lab-zzz", notifyPayload({ id: 1 }));
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain('Lab "lab-zzz"');
  });

  it("rejects a missing token with 401 and a wrong one with 403", async () => {
    const none = await call("lab-a", notifyPayload({ id: 1 }), {});
    expect(none.status).toBe(401);
    expect((await none.json()).message).toMatch(/x-magma-token or Authorization/);
    const wrong = await call("lab-a", notifyPayload({ id: 1 }), { authorization: "wrong-token" });
    expect(wrong.status).toBe(403);
  });

  it("accepts the token from Authorization too (LAVA's default header)", async () => {
    const res = await call("lab-a", notifyPayload({ id: 2 }), { authorization: "secret-a-123" });
    expect(res.status).toBe(202);
  });

  it("rejects a bad body with 400 naming the field", async () => {
    const notJson = await call("lab-a", "id=4&status=2");
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).message).toMatch(/not valid JSON/);
    const { health: _h, ...noHealth } = notifyPayload({ id: 3 });
    const bad = await call("lab-a", { ...noHealth, priority: "high" });
    expect(bad.status).toBe(400);
    const msg = (await bad.json()).message as string;
    expect(msg).toContain("health");
    expect(msg).toContain("priority");
  });

  it("queues a good callback once under its deterministic id (202 twice, one queue job)", async () => {
    const p = notifyPayload({ id: 10 });
    const a = await call("lab-a", p);
    const b = await call("lab-a", p);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    const id = callbackJobId("lab-a", 10, "Finished", "Complete");
    expect((await a.json()).job_id).toBe(id);
    const job = await queue.getJob(id);
    expect(job?.data.instance).toBe("lab-a");
    expect(job?.data.payload.token).toBeUndefined();
    expect(job?.data.payload.log).toBeUndefined();
    const ids = (await queue.getJobs(["waiting", "delayed", "active", "completed"])).map((j) => j.id).filter((x) => x === id);
    expect(ids).toHaveLength(1);
  });
});

describe("callback consumer ingest", () => {
  it("ingests the queued callbacks: one job, N cases, even when delivered twice", async () => {
    const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
    const { db } = await import("../src/server/db.ts");
    consumer = startCallbackConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }) });
    const job = await waitFor(() => getFederatedJob(db(), null, "lab-a", 10), 10_000, "job 10 ingested");
    expect(job.state).toBe("Finished");
    expect(job.health).toBe("Complete");
    expect(job.metadata).toEqual({ "kernel.tree": "mainline", "kernel.branch": "master" });
    expect(job.suites.map((s) => s.name).sort()).toEqual(["0_smoke", "lava"]);
    const smoke = job.suites.find((s) => s.name === "0_smoke")!;
    expect(smoke.counts).toEqual({ pass: 2, fail: 1, skip: 0, unknown: 0 });
    expect(smoke.cases.find((c) => c.name === "case-2")).toMatchObject({ measurement: "3.5", units: "seconds" });

    // a re-delivery after the queue job is gone (new queue job id) must not double-count
    const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");
    const r = await ingestCallback({
      db: db(),
      job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload: notifyPayload({ id: 10 }) },
      log: pino({ level: "silent" }),
    });
    expect(r.casesInserted).toBe(0);
    const again = await getFederatedJob(db(), null, "lab-a", 10);
    expect(again!.suites.reduce((n, s) => n + s.cases.length, 0)).toBe(4);
  });

  it("does not regress: a Running callback after Finished changes nothing", async () => {
    const { db } = await import("../src/server/db.ts");
    const running = notifyPayload({
      id: 10,
      state: 3,
      state_string: "Running",
      health: 0,
      health_string: "Unknown",
      status: 1,
      status_string: "running",
      end_time: "None",
      results: {},
    });
    const res = await call("lab-a", running);
    expect(res.status).toBe(202);
    const id = callbackJobId("lab-a", 10, "Running", "Unknown");
    await waitFor(async () => (await queue.getJobState(id)) === "completed", 10_000, "running callback processed");
    const job = await getFederatedJob(db(), null, "lab-a", 10);
    expect(job!.state).toBe("Finished");
    expect(job!.health).toBe("Complete");
    expect(job!.endTime).toBe("2026-11-23T06:57:10.394Z");
  });

  it("moves forward: Running first, then Finished fills the job and its results", async () => {
    const { db } = await import("../src/server/db.ts");
    await call(
      "lab-a",
      notifyPayload({ id: 11, state: 3, state_string: "Running", health: 0, health_string: "Unknown", end_time: "None", results: {} }),
    );
    const running = await waitFor(() => getFederatedJob(db(), null, "lab-a", 11), 10_000, "job 11 running");
    expect(running.state).toBe("Running");
    await call(
      "lab-a",
      notifyPayload({
        id: 11,
        health: 2,
        health_string: "Incomplete",
        failure_comment: "boot timed out",
        magma: { instance: "lab-a", device_type: "qemu", error_type: "Infrastructure", health_check: false },
      }),
    );
    const done = await waitFor(async () => {
      const j = await getFederatedJob(db(), null, "lab-a", 11);
      return j?.state === "Finished" ? j : null;
    });
    expect(done.health).toBe("Incomplete");
    expect(done.errorType).toBe("Infrastructure");
    expect(done.failureComment).toBe("boot timed out");
    expect(done.suites.find((s) => s.name === "0_smoke")!.cases).toHaveLength(3);
  });

  it("ingests live-results pushes of a Running job exactly once: rollup counts equal the stored cases", async () => {
    const { db } = await import("../src/server/db.ts");
    /** YAML `results` of cases `ids` (suite 0_live; every third one fails, id 7 is a `lava` case). */
    const results = (ids: number[]) => {
      const item = (id: number) =>
        [
          `- id: '${id}'`,
          `  job: '12'`,
          `  name: case-${id}`,
          `  suite: ${id === 7 ? "lava" : "0_live"}`,
          `  result: ${id % 3 === 1 ? "fail" : "pass"}`,
          `  measurement: None`,
        ].join("\n");
      const bySuite: Record<string, string> = {};
      for (const id of ids) {
        const suite = id === 7 ? "lava" : "0_live";
        bySuite[suite] = [bySuite[suite], item(id)].filter(Boolean).join("\n");
      }
      return bySuite;
    };
    const running = {
      state: 3,
      state_string: "Running",
      health: 0,
      health_string: "Unknown",
      status: 1,
      status_string: "running",
      end_time: "None",
    };
    const live = (after: number, ids: number[]) =>
      notifyPayload({
        id: 12,
        ...running,
        results: results(ids),
        magma: {
          instance: "lab-a",
          device_type: "qemu",
          error_type: null,
          health_check: false,
          live_results: { after, through: ids.at(-1)! },
        },
      });
    const rollup = async () => {
      const j = await db().federatedJob.findFirstOrThrow({ where: { remote_id: 12, instance: { name: "lab-a" } } });
      return { pass: j.pass_count, fail: j.fail_count, skip: j.skip_count, unknown: j.unknown_count };
    };
    const storedCounts = async () => {
      const cases = await db().federatedTestCase.findMany({ where: { remote_job_id: 12, instance: { name: "lab-a" } } });
      const counted = cases.filter((c) => c.suite !== "lava");
      return {
        total: cases.length,
        counts: {
          pass: counted.filter((c) => c.result === "pass").length,
          fail: counted.filter((c) => c.result === "fail").length,
          skip: counted.filter((c) => c.result === "skip").length,
          unknown: counted.filter((c) => !["pass", "fail", "skip"].includes(c.result)).length,
        },
      };
    };

    // two live pushes, each its own queue job (`-live<through>`), the second delivered twice
    const a = await call("lab-a", live(0, [1, 2, 3]));
    expect(a.status).toBe(202);
    expect((await a.json()).job_id).toBe(callbackJobId("lab-a", 12, "Running", "Unknown", 3));
    await waitFor(async () => (await storedCounts()).total === 3, 10_000, "the first live push ingested");
    const partial = await getFederatedJob(db(), null, "lab-a", 12);
    expect(partial!.state).toBe("Running");
    expect(partial!.suites.find((s) => s.name === "0_live")!.cases.map((c) => c.name)).toEqual(["case-1", "case-2", "case-3"]);
    expect((await storedCounts()).counts).toEqual(await rollup());
    const second = live(3, [4, 5, 6, 7]);
    expect((await call("lab-a", second)).status).toBe(202);
    expect((await call("lab-a", second)).status).toBe(202);
    await waitFor(async () => (await storedCounts()).total === 7, 10_000, "the second live push ingested");
    expect((await storedCounts()).counts).toEqual(await rollup());

    // Finished carries every case (the live ones again, and two more): only the new ones count
    const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");
    const done = await ingestCallback({
      db: db(),
      job: {
        instance: "lab-a",
        receivedAt: new Date().toISOString(),
        payload: notifyPayload({ id: 12, results: results([1, 2, 3, 4, 5, 6, 7, 8, 9]) }),
      },
      log: pino({ level: "silent" }),
    });
    expect(done.casesInserted).toBe(2);
    // a live push delivered late (after Finished) is stale: nothing changes
    const late = await ingestCallback({
      db: db(),
      job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload: live(6, [7, 8, 9]) },
      log: pino({ level: "silent" }),
    });
    expect(late).toMatchObject({ stale: true, casesInserted: 0 });
    const final = await storedCounts();
    expect(final.total).toBe(9);
    expect(final.counts).toEqual(await rollup());
    expect(final.counts).toEqual({ pass: 6, fail: 2, skip: 0, unknown: 0 });
    expect((await getFederatedJob(db(), null, "lab-a", 12))!.state).toBe("Finished");
  });

  it("fails a malformed queue job without retrying it", async () => {
    const job = await queue.add("notify", { instance: "lab-a", payload: { id: "x" } }, { jobId: "bad-job-1", attempts: 5 });
    await waitFor(async () => (await queue.getJobState(job.id!)) === "failed", 10_000, "bad job failed");
    const j = await queue.getJob(job.id!);
    expect(j!.attemptsMade).toBe(1);
    expect(j!.failedReason).toMatch(/bad magma-callbacks job/);
  });
});
