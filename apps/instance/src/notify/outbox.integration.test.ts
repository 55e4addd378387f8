import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZNotifyPayload, ZNotifyTestCase, ZPingResponse } from "@magma/protocol";
import { startReceiver } from "../testing/receiver.ts";
import { ADMIN_TOKEN, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

const MINIMAL_KEYS = [
  "id",
  "status",
  "status_string",
  "state",
  "state_string",
  "health",
  "health_string",
  "submit_time",
  "start_time",
  "end_time",
  "submitter_username",
  "submitter_email",
  "failure_comment",
  "priority",
  "description",
  "actual_device_id",
  "definition",
  "metadata",
  "health_check",
];

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
let receiverUp = true;

beforeAll(async () => {
  rx = await startReceiver((r, n) => {
    if (!receiverUp) return 503;
    if (r.url.startsWith("/cb/")) return n < 2 ? 500 : 200; // fails twice, then accepts
    return 200;
  });
  h = await startHarness({ config: { federationCallbackUrl: `${rx.url}/federation/lab-a`, federationToken: "fed-secret" } });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => rx?.server.close(r));
});

async function runJob(extra: string, logs: unknown[] = []): Promise<number> {
  const jobId = await submit(h, jobYaml({ name: "notify", extra }));
  const { token } = await waitUntil(
    async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
    5000,
    "job start",
  );
  await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
  if (logs.length) await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 0, lines: logs });
  await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
  return jobId;
}

describe("notify outbox", () => {
  it("retries a failing receiver until it accepts: exactly one accepted delivery with LAVA's payload", async () => {
    const notify = `notify:
  criteria: {status: finished}
  callbacks:
  - {url: "${rx.url}/cb/{ID}/{STATUS_STRING}", method: POST, dataset: all, content-type: json, token: admin, header: X-Callback-Token}
  - {url: "${rx.url}/get/{ID}/{STATUS}"}
  - {url: "${rx.url}/form", method: POST, dataset: results, token: literal-not-a-token-description}
metadata: {source: ci, build: 42}`;
    const logs = [
      { dt: "2026-11-23T06:55:15.451656", lvl: "info", msg: "lava-dispatcher, installed at version: magma" },
      { dt: "2026-11-23T06:55:15.488296", lvl: "results", msg: { case: "validate", definition: "lava", result: "pass" } },
      {
        dt: "2026-11-23T06:55:16.000000",
        lvl: "results",
        msg: { case: "items", definition: "0_cb", result: "pass", measurement: 3, units: "items", starttc: 0, endtc: 1 },
      },
    ];
    const jobId = await runJob(notify, logs);
    const accepted = await waitUntil(
      () => rx.received.find((r) => r.url === `/cb/${jobId}/complete` && r.status === 200),
      15_000,
      "the accepted callback",
    );
    const attempts = rx.received.filter((r) => r.url === `/cb/${jobId}/complete`);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const row = await waitUntil(
      () => h.db.callbackOutbox.findFirst({ where: { jobId, callbackIndex: 0, state: "delivered" } }),
      5000,
      "delivered row",
    );
    expect(row.attempts).toBe(3);

    expect(accepted.headers["content-type"]).toBe("application/json");
    expect(accepted.headers["x-callback-token"]).toBe(ADMIN_TOKEN);
    const payload = ZNotifyPayload.parse(JSON.parse(accepted.body));
    for (const k of MINIMAL_KEYS) expect(payload).toHaveProperty(k);
    expect(payload).toMatchObject({
      id: jobId,
      status: 2,
      status_string: "complete",
      state: 5,
      state_string: "Finished",
      health: 1,
      health_string: "Complete",
      submitter_username: "admin",
      actual_device_id: "qemu-01",
      priority: 50,
      failure_comment: null,
      metadata: { source: "ci", build: "42" },
      // LAVA 2025+: submitter_email and health_check; the token only in its header
      submitter_email: "",
      health_check: false,
    });
    expect(payload).not.toHaveProperty("token");
    expect(payload.submit_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(payload.end_time).not.toBe("None");
    expect(payload.magma).toEqual({ instance: "lab-a", device_type: "qemu", error_type: null, health_check: false, visibility: "public" });
    expect(payload.log!.split("\n")[1]).toBe(
      '- {"dt": "2026-11-23T06:55:15.488296", "lvl": "results", "msg": {"case": "validate", "definition": "lava", "result": "pass"}}',
    );
    expect(Object.keys(payload.results!).sort()).toEqual(["0_cb", "lava"]);
    const cases = (parse(payload.results!["0_cb"]!) as unknown[]).map((c) => ZNotifyTestCase.parse(c));
    expect(cases[0]).toMatchObject({
      job: String(jobId),
      name: "items",
      suite: "0_cb",
      result: "pass",
      measurement: "3",
      unit: "items",
      log_start_line: "0",
      log_end_line: "1",
    });

    const get = await waitUntil(() => rx.received.find((r) => r.url === `/get/${jobId}/2`), 5000, "GET callback");
    expect(get.method).toBe("GET");
    expect(get.body).toBe("");
    const form = await waitUntil(() => rx.received.find((r) => r.url === "/form"), 5000, "urlencoded callback");
    expect(form.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(form.headers["authorization"]).toBe("literal-not-a-token-description");
    const fields = new URLSearchParams(form.body);
    expect(fields.get("status_string")).toBe("complete");
    expect(fields.getAll("results").sort()).toEqual(["0_cb", "lava"]);
    expect(fields.has("failure_comment")).toBe(false);
    expect(fields.has("token")).toBe(false);
    expect(fields.get("health_check")).toBe("false");

    // federation: every state change (Submitted, Scheduled, Running, Finished), POST json dataset results (never the log), x-magma-token
    const fed = await waitUntil(
      () => {
        // (a live-results push, if the job ran long enough for one, is not a state change)
        const f = rx.received.filter(
          (r) => r.url === "/federation/lab-a" && JSON.parse(r.body).id === jobId && !JSON.parse(r.body).magma?.live_results,
        );
        return f.length === 4 ? f : null;
      },
      5000,
      "four federation callbacks",
    );
    const rows = await h.db.callbackOutbox.findMany({
      where: { jobId, callbackIndex: -1, NOT: { transition: { startsWith: "Results:" } } },
      orderBy: { id: "asc" },
    });
    expect(rows.map((r) => r.transition)).toEqual(["Submitted", "Scheduled", "Running", "Finished"]);
    // bodies of Submitted/Scheduled are built at delivery: never older than their transition
    expect(fed.map((f) => JSON.parse(f.body).state_string)).toContain("Running");
    expect(fed.map((f) => JSON.parse(f.body).state_string)).toContain("Finished");
    expect(fed.every((f) => f.headers["x-magma-token"] === "fed-secret")).toBe(true);
    const running = JSON.parse(fed.find((f) => JSON.parse(f.body).state === 3)!.body);
    expect(running).toMatchObject({ status: 1, status_string: "running", health: 0 });
    const finishedFed = JSON.parse(fed.find((f) => JSON.parse(f.body).state === 5)!.body);
    expect(finishedFed.log).toBeUndefined();
    expect(Object.keys(finishedFed.results).sort()).toEqual(["0_cb", "lava"]);
    expect(finishedFed.magma.transfer).toMatchObject({ results_inline: true });
    expect(finishedFed.magma.transfer.log_lines).toBeGreaterThan(0);
    // the frozen Running payload keeps LAVA's key order
    expect(Object.keys(running).slice(0, MINIMAL_KEYS.length)).toEqual(MINIMAL_KEYS);
  });

  it("pushes a queued job as Submitted before any device takes it, and a canceled running job as Canceling", async () => {
    const queued = await submit(h, jobYaml({ name: "queued", tags: ["no-device-has-this-tag"] }));
    const first = await waitUntil(
      () => rx.received.find((r) => r.url === "/federation/lab-a" && JSON.parse(r.body).id === queued),
      5000,
      "the Submitted callback of a queued job",
    );
    expect(JSON.parse(first.body)).toMatchObject({ state_string: "Submitted", health_string: "Unknown", description: "queued" });
    expect(first.headers["x-magma-token"]).toBe("fed-secret");

    const running = await submit(h, jobYaml({ name: "to-cancel" }));
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === running),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${running}/`, token, { state: "RUNNING" });
    const cancel = await fetch(`${h.baseUrl}/api/v0.2/jobs/${running}/cancel/`, {
      method: "POST",
      headers: { authorization: `Token ${ADMIN_TOKEN}` },
    });
    expect(cancel.status).toBeLessThan(300);
    await waitUntil(
      () =>
        rx.received.find(
          (r) => r.url === "/federation/lab-a" && JSON.parse(r.body).id === running && JSON.parse(r.body).state_string === "Canceling",
        ),
      5000,
      "the Canceling callback",
    );
    const transitions = (await h.db.callbackOutbox.findMany({ where: { jobId: running, callbackIndex: -1 }, orderBy: { id: "asc" } })).map(
      (r) => r.transition,
    );
    expect(transitions).toEqual(["Submitted", "Scheduled", "Running", "Canceling"]);
    // the worker acknowledges the cancel: the device is free for the next test
    await jobCall(h, "POST", `${running}/`, token, { state: "FINISHED", result: "fail" });
    await waitUntil(
      () => h.db.testJob.findFirst({ where: { id: running, state: "Finished", health: "Canceled" } }),
      5000,
      "the canceled job finished",
    );
  });

  it("pending rows survive a restart and are delivered by the new process", async () => {
    receiverUp = false;
    const jobId = await runJob(
      `notify: {criteria: {status: complete}, callbacks: [{url: "${rx.url}/after-restart/{ID}", method: POST, content-type: json}]}`,
    );
    await waitUntil(
      () => h.db.callbackOutbox.findFirst({ where: { jobId, callbackIndex: 0, attempts: { gte: 1 } } }),
      10_000,
      "a failed attempt",
    );
    await h.app.close();
    expect((await h.db.callbackOutbox.findFirstOrThrow({ where: { jobId, callbackIndex: 0 } })).state).toBe("pending");
    receiverUp = true;
    await h.restart();
    const row = await waitUntil(
      () => h.db.callbackOutbox.findFirst({ where: { jobId, callbackIndex: 0, state: "delivered" } }),
      15_000,
      "delivery after restart",
    );
    expect(row.lastError).toBeNull();
    expect(rx.received.filter((r) => r.url === `/after-restart/${jobId}` && r.status === 200)).toHaveLength(1);
  });
});
