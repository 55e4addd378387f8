import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZNotifyPayload, ZPingResponse } from "@magma/protocol";
import { digestSecret } from "@magma/db/secrets";
import { createTestDatabaseBefore } from "@magma/db/testing";
import { startReceiver } from "../testing/receiver.ts";
import {
  ADMIN_TOKEN,
  BOB_TOKEN,
  WORKER_TOKEN,
  api,
  jobCall,
  jobYaml,
  ping,
  startHarness,
  submit,
  waitUntil,
  type Harness,
} from "../testing/harness.ts";

const run = promisify(execFile);
const FEDERATION_TOKEN = "federation-token-0123456789abcdef";

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({ config: { federationCallbackUrl: `${rx.url}/federation/lab-a`, federationToken: FEDERATION_TOKEN } });
});
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

/** Plays the worker through one job; returns the job token the ping handed out. */
async function runJob(definition: string, token = ADMIN_TOKEN): Promise<{ jobId: number; jobToken: string }> {
  const jobId = await submit(h, definition, token);
  const { token: jobToken } = await waitUntil(
    async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
    5000,
    "job start",
  );
  expect((await jobCall(h, "POST", `${jobId}/`, jobToken, { state: "RUNNING" })).status).toBe(200);
  // the same token is handed out again by the next ping (derived, not stored)
  const again = ZPingResponse.parse((await ping(h)).json).running.find((r) => r.id === jobId);
  expect(again?.token).toBe(jobToken);
  expect((await jobCall(h, "POST", `${jobId}/`, jobToken, { state: "FINISHED", result: "pass" })).status).toBe(200);
  return { jobId, jobToken };
}

const notifyYaml = (rxUrl: string, token: string, status = "all") => `notify:
  criteria: {status: ${status}}
  callbacks:
  - {url: "${rxUrl}/cb/{ID}/{STATUS_STRING}", method: POST, dataset: minimal, content-type: json, token: ${token}, header: X-Callback-Token}`;

describe("secrets at rest", () => {
  it("stores only digests: no live token in a pg_dump after jobs, callbacks and authenticated calls", async () => {
    const { jobId, jobToken } = await runJob(jobYaml({ name: "dump", extra: notifyYaml(rx.url, "admin") }));
    // both callbacks (Running frozen, Finished built at delivery) carried the secret
    const cbs = await waitUntil(
      () => {
        const r = rx.received.filter((x) => x.url.startsWith(`/cb/${jobId}/`));
        return r.length === 2 ? r : null;
      },
      15_000,
      "two notify callbacks",
    );
    for (const c of cbs) {
      expect(c.headers["x-callback-token"]).toBe(ADMIN_TOKEN);
      // LAVA 2025+: the token travels in its header only, never in the body
      expect(ZNotifyPayload.parse(JSON.parse(c.body)).token).toBeUndefined();
      expect(c.body).not.toContain(ADMIN_TOKEN);
    }
    expect(cbs.map((c) => JSON.parse(c.body).state_string).sort()).toEqual(["Finished", "Running"]);
    const fed = await waitUntil(
      () => {
        const r = rx.received.filter((x) => x.url === "/federation/lab-a" && JSON.parse(x.body).id === jobId);
        return r.length === 4 ? r : null;
      },
      15_000,
      "four federation callbacks (Submitted, Scheduled, Running, Finished)",
    );
    expect(fed.every((f) => f.headers["x-magma-token"] === FEDERATION_TOKEN)).toBe(true);
    await waitUntil(
      () => h.db.callbackOutbox.count({ where: { jobId, state: "delivered" } }).then((n) => n === 6),
      10_000,
      "all rows delivered",
    );
    // a pending row too (its receiver is not there), so the dump sees a row waiting with its token
    const pendingJob = await runJob(jobYaml({ name: "pending", extra: notifyYaml("http://127.0.0.1:9", "admin", "finished") }));
    await waitUntil(
      () => h.db.callbackOutbox.findFirst({ where: { jobId: pendingJob.jobId, callbackIndex: 0, attempts: { gte: 1 } } }),
      10_000,
      "a failed attempt",
    );
    expect((await api(h, "GET", "/api/v0.2/system/whoami/", { token: BOB_TOKEN })).status).toBe(200);

    const { stdout: dump } = await run("pg_dump", ["--data-only", "--inserts", h.testDb.url], { maxBuffer: 64 * 1024 * 1024 });
    expect(dump).toContain(digestSecret(ADMIN_TOKEN)); // the dump is the real one
    for (const secret of [ADMIN_TOKEN, BOB_TOKEN, WORKER_TOKEN, jobToken, pendingJob.jobToken, FEDERATION_TOKEN]) {
      expect(dump, `a live token in the dump`).not.toContain(secret);
    }
  });

  it("records last_used on the token that authenticated", async () => {
    const before = await h.db.apiToken.findFirstOrThrow({ where: { secretDigest: digestSecret(BOB_TOKEN) } });
    await h.db.apiToken.update({ where: { id: before.id }, data: { lastUsed: null } });
    expect((await api(h, "GET", "/api/v0.2/system/whoami/", { token: BOB_TOKEN })).json).toMatchObject({ user: "bob" });
    const after = await h.db.apiToken.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.lastUsed).toBeInstanceOf(Date);
    expect(Date.now() - after.lastUsed!.getTime()).toBeLessThan(60_000);
  });

  it("a callback `token:` names only the submitter's own tokens: another user's description is sent literally", async () => {
    // bob's token is described "cb-token"; admin's job naming it must not get bob's secret
    const { jobId: adminJob } = await runJob(jobYaml({ name: "not-yours", extra: notifyYaml(rx.url, "cb-token", "finished") }));
    const a = await waitUntil(() => rx.received.find((x) => x.url === `/cb/${adminJob}/complete`), 15_000, "admin's callback");
    expect(a.headers["x-callback-token"]).toBe("cb-token");
    expect(JSON.parse(a.body).token).toBeUndefined();
    // bob's own job naming it gets bob's secret
    const { jobId: bobJob } = await runJob(jobYaml({ name: "yours", extra: notifyYaml(rx.url, "cb-token", "finished") }), BOB_TOKEN);
    const b = await waitUntil(() => rx.received.find((x) => x.url === `/cb/${bobJob}/complete`), 15_000, "bob's callback");
    expect(b.headers["x-callback-token"]).toBe(BOB_TOKEN);
    expect(JSON.parse(b.body).token).toBeUndefined();
  });

  it("refuses wrong worker and job tokens", async () => {
    expect((await ping(h, { token: "wrong-worker-token-0123456789" })).status).toBe(401);
    const jobId = await submit(h, jobYaml({ name: "wrong-token" }));
    await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    expect((await jobCall(h, "POST", `${jobId}/`, "not-the-job-token-0123456789abcdef", { state: "RUNNING" })).status).toBe(401);
    await api(h, "POST", `/api/v0.2/jobs/${jobId}/cancel/`, { token: ADMIN_TOKEN });
  });
});

describe("migration hashed_secrets", () => {
  it("converts existing plaintext tokens to digests, keeps them valid and scrubs the outbox", async () => {
    const db = await createTestDatabaseBefore("instance", "hashed_secrets");
    try {
      await db.query(`INSERT INTO users (username) VALUES ('old')`);
      await db.query(`INSERT INTO api_tokens (user_id, secret, description) VALUES (1, 'old-plaintext-token-0123456789', 'cb')`);
      await db.query(`INSERT INTO workers (hostname, token) VALUES ('w', 'old-worker-token-0123456789')`);
      await db.query(`INSERT INTO device_types (name) VALUES ('qemu')`);
      await db.query(`INSERT INTO test_jobs (submitter_id, description, requested_device_type_id, definition, original_definition, token, state)
                      VALUES (1, 'j', 1, 'x', 'x', 'old-job-token-0123456789abcdef', 'Finished')`);
      await db.query(`INSERT INTO callback_outbox (job_id, transition, callback_index, url, method, headers, token, body, state)
                      VALUES (1, 'Finished', 0, 'http://x', 'POST', '{"Authorization": "old-plaintext-token-0123456789"}', 'old-plaintext-token-0123456789', '{"token": "old-plaintext-token-0123456789"}', 'pending'),
                             (1, 'Finished', -1, 'http://x', 'POST', '{"x-magma-token": "old-fed-token"}', NULL, NULL, 'delivered')`);
      await db.applyTarget();

      expect((await db.query(`SELECT secret_digest FROM api_tokens`))[0]).toEqual({
        secret_digest: digestSecret("old-plaintext-token-0123456789"),
      });
      expect((await db.query(`SELECT token_digest FROM workers`))[0]).toEqual({
        token_digest: digestSecret("old-worker-token-0123456789"),
      });
      expect((await db.query(`SELECT token_digest FROM test_jobs`))[0]).toEqual({
        token_digest: digestSecret("old-job-token-0123456789abcdef"),
      });
      expect(await db.query(`SELECT callback_index, token, token_id, body, headers FROM callback_outbox ORDER BY callback_index`)).toEqual([
        { callback_index: -1, token: null, token_id: null, body: null, headers: {} },
        { callback_index: 0, token: null, token_id: 1, body: null, headers: {} },
      ]);
      const cols = await db.query(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('secret', 'token') AND table_name IN ('api_tokens', 'workers', 'test_jobs')`,
      );
      expect(cols).toEqual([]);
      const { stdout: dump } = await run("pg_dump", ["--data-only", "--inserts", db.url]);
      expect(dump).not.toMatch(/old-(plaintext|worker|fed|job)-token/);
    } finally {
      await db.drop();
    }
  });
});
