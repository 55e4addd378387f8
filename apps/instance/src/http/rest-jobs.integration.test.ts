import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZInstanceOverview, ZJobDetail } from "@magma/protocol";
import { ADMIN_TOKEN, BOB_TOKEN, api, jobYaml, startHarness, submit, type Harness } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  // worker never pings here, so submitted jobs stay Submitted
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("POST /api/v0.2/jobs/ (submit)", () => {
  it("requires a token: 401 without one, 401 for an unknown one", async () => {
    const none = await api(h, "POST", "/api/v0.2/jobs/", { body: { definition: jobYaml() } });
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ code: "UNAUTHENTICATED", message: "Authentication credentials were not provided." });
    const bad = await api(h, "POST", "/api/v0.2/jobs/", { token: "nope-nope-nope-nope", body: { definition: jobYaml() } });
    expect(bad.status).toBe(401);
    expect(bad.json.message).toBe("Invalid token.");
  });

  it("creates a job: 201 with LAVA's message and ids; detail has both definitions", async () => {
    const text = `# my comment\n${jobYaml({ name: "first", priority: "high" })}`;
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: text } });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ message: "job(s) successfully submitted", job_ids: [expect.any(Number)] });
    const id = r.json.job_ids[0];
    const d = await api(h, "GET", `/api/v0.2/jobs/${id}/`);
    expect(d.status).toBe(200);
    const job = ZJobDetail.parse(d.json);
    expect(job).toMatchObject({
      id,
      submitter: "admin",
      description: "first",
      priority: 100,
      state: "Submitted",
      health: "Unknown",
      requested_device_type: "qemu",
      actual_device: null,
    });
    expect(job.original_definition).toBe(text);
    expect(job.definition).not.toContain("# my comment");
    expect(job.definition.indexOf("actions:")).toBeLessThan(job.definition.indexOf("device_type:"));
  });

  it("rejects an invalid definition with LAVA's message naming the YAML path", async () => {
    const noName = jobYaml().replace(/^job_name: .*\n/m, "");
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: noName } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("INVALID_JOB_DEFINITION");
    expect(r.json.message).toBe("Job invalid: required key not provided @ data['job_name']");

    const badBoot = jobYaml().replace("method: qemu", "method: fastboot");
    const r2 = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: badBoot } });
    expect(r2.status).toBe(400);
    expect(r2.json.message).toContain("@ data['actions'][1]['boot']['method']");

    const syntax = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: "job_name: [unclosed" } });
    expect(syntax.status).toBe(400);
    expect(syntax.json.message).toMatch(/^Job invalid: YAML syntax error/);
  });

  it("rejects an unknown device type naming it", async () => {
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: jobYaml({ deviceType: "qemu-x" }) } });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe("Job invalid: device type 'qemu-x' does not exist @ data['device_type']");
  });

  it("answers 400 (never 500) for malformed bodies and 413 for oversize ones", async () => {
    const notJson = await api(h, "POST", "/api/v0.2/jobs/", {
      token: ADMIN_TOKEN,
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json.code).toBe("INVALID_REQUEST");
    const noDef = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: 3 } });
    expect(noDef.status).toBe(400);
    expect(noDef.json.message).toContain("definition");
    const huge = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: "x".repeat(3 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.json.code).toBe("PAYLOAD_TOO_LARGE");
    const badId = await api(h, "GET", "/api/v0.2/jobs/abc/");
    expect(badId.status).toBe(404);
    const badLimit = await api(h, "GET", "/api/v0.2/jobs/?limit=-1");
    expect(badLimit.status).toBe(400);
    expect(badLimit.json.message).toContain("limit");
  });

  it("returns the same job for a repeated Idempotency-Key, per submitter", async () => {
    const send = (token: string) =>
      api(h, "POST", "/api/v0.2/jobs/", { token, body: { definition: jobYaml({ name: "idem" }) }, headers: { "idempotency-key": "k-1" } });
    const a = await send(ADMIN_TOKEN);
    const b = await send(ADMIN_TOKEN);
    const c = await send(BOB_TOKEN);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.json.job_ids).toEqual(a.json.job_ids);
    expect(c.json.job_ids).not.toEqual(a.json.job_ids);
    expect(await h.db.testJob.count({ where: { idempotencyKey: "k-1" } })).toBe(2);
    // concurrent duplicates still make one job
    const many = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: jobYaml() }, headers: { "idempotency-key": "k-2" } }),
      ),
    );
    expect(new Set(many.map((m) => m.json.job_ids[0])).size).toBe(1);
  });
});

describe("reads", () => {
  it("validate answers LAVA's messages", async () => {
    const ok = await api(h, "POST", "/api/v0.2/jobs/validate/", { body: { definition: jobYaml() } });
    expect(ok.json).toEqual({ message: "Job valid." });
    const bad = await api(h, "POST", "/api/v0.2/jobs/validate/", { body: { definition: "job_name: x" } });
    expect(bad.status).toBe(200);
    expect(bad.json.message).toMatch(/^Job invalid: required key not provided @ data\['device_type'\]/);
  });

  it("lists jobs as a DRF page, newest first, with filters; personal jobs stay private", async () => {
    const priv = await submit(h, jobYaml({ name: "private" }).replace("visibility: public", "visibility: personal"), BOB_TOKEN);
    const page = await api(h, "GET", "/api/v0.2/jobs/?limit=2");
    expect(page.status).toBe(200);
    expect(page.json.results).toHaveLength(2);
    expect(page.json.results[0].id).toBeGreaterThan(page.json.results[1].id);
    expect(page.json.next).toContain("offset=2");
    expect(page.json.previous).toBeNull();
    const anon = await api(h, "GET", `/api/v0.2/jobs/${priv}/`);
    expect(anon.status).toBe(404);
    expect((await api(h, "GET", `/api/v0.2/jobs/${priv}/`, { token: BOB_TOKEN })).status).toBe(200);
    expect((await api(h, "GET", `/api/v0.2/jobs/${priv}/`, { token: ADMIN_TOKEN })).status).toBe(200);
    const filtered = await api(h, "GET", "/api/v0.2/jobs/?state=Submitted&limit=100");
    expect(filtered.json.results.every((j: { state: string }) => j.state === "Submitted")).toBe(true);
    expect(filtered.json.results.some((j: { id: number }) => j.id === priv)).toBe(false);
    const badState = await api(h, "GET", "/api/v0.2/jobs/?state=Done");
    expect(badState.status).toBe(400);
    expect(badState.json.message).toContain("state 'Done'");
  });

  it("serves version, overview and inventory", async () => {
    expect((await api(h, "GET", "/api/v0.2/system/version/")).json.version).toMatch(/magma/);
    const o = ZInstanceOverview.parse((await api(h, "GET", "/api/v0.2/magma/overview/")).json);
    expect(o.name).toBe("lab-a");
    expect(o.devices[0]).toMatchObject({
      hostname: "qemu-01",
      device_type: "qemu",
      state: "Idle",
      health: "Good",
      worker_host: "worker-a",
    });
    expect(o.queue.submitted).toBeGreaterThan(0);
    const workers = await api(h, "GET", "/api/v0.2/workers/");
    expect(workers.json.results[0]).not.toHaveProperty("token");
    expect((await api(h, "GET", "/api/v0.2/devicetypes/")).json.results[0]).toMatchObject({ name: "qemu", health_denominator: "hours" });
  });

  it("cancels a Submitted job straight to Finished/Canceled; only the submitter or a superuser may", async () => {
    const id = await submit(h, jobYaml({ name: "to-cancel" }));
    const other = await api(h, "POST", `/api/v0.2/jobs/${id}/cancel/`, { token: BOB_TOKEN });
    expect(other.status).toBe(403);
    const anon = await api(h, "POST", `/api/v0.2/jobs/${id}/cancel/`);
    expect(anon.status).toBe(401);
    const r = await api(h, "POST", `/api/v0.2/jobs/${id}/cancel/`, { token: ADMIN_TOKEN });
    expect(r.json).toEqual({ message: "Job cancel signal sent." });
    const d = await api(h, "GET", `/api/v0.2/jobs/${id}/`);
    expect(d.json).toMatchObject({ state: "Finished", health: "Canceled" });
    expect(d.json.end_time).not.toBeNull();
    // again: no change, still fine
    expect((await api(h, "POST", `/api/v0.2/jobs/${id}/cancel/`, { token: ADMIN_TOKEN })).status).toBe(200);
  });
});

describe("POST /api/v0.2/jobs/batch_cancel/ (LAVA 2025+)", () => {
  it("cancels the caller's jobs and lists the unknown and the others' as invalid", async () => {
    const mine = await submit(h, jobYaml({ name: "batch-a" }), BOB_TOKEN);
    const mine2 = await submit(h, jobYaml({ name: "batch-b" }), BOB_TOKEN);
    const admins = await submit(h, jobYaml({ name: "batch-admin" }), ADMIN_TOKEN);
    const r = await api(h, "POST", "/api/v0.2/jobs/batch_cancel/", { token: BOB_TOKEN, body: { job_ids: [mine, admins, 987654, mine2] } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: "Job cancel signal sent for job ids.", job_ids: [mine, mine2], invalid_job_ids: [admins, 987654] });
    for (const id of [mine, mine2])
      expect((await api(h, "GET", `/api/v0.2/jobs/${id}/`, { token: BOB_TOKEN })).json.state).toMatch(/Canceling|Finished/);
    expect((await api(h, "GET", `/api/v0.2/jobs/${admins}/`, { token: ADMIN_TOKEN })).json.state).not.toMatch(/Canceling|Finished/);
    expect((await api(h, "POST", "/api/v0.2/jobs/batch_cancel/", { body: { job_ids: [mine] } })).status).toBe(401);
    const bad = await api(h, "POST", "/api/v0.2/jobs/batch_cancel/", { token: BOB_TOKEN, body: { job_ids: [] } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("job_ids must list at least one job id");
  });
});

describe("POST /api/v0.2/workers/<hostname>/set_health/ (LAVA 2025+)", () => {
  it("lets a superuser set a worker's health, refuses others, names bad values", async () => {
    const set = (token: string | undefined, body: unknown, host = "worker-a") =>
      api(h, "POST", `/api/v0.2/workers/${host}/set_health/`, { ...(token ? { token } : {}), body });
    expect(await set(ADMIN_TOKEN, { health: "maintenance", reason: "cabling" })).toMatchObject({ status: 202, json: { message: "OK" } });
    expect(
      (await api(h, "GET", "/api/v0.2/workers/", { token: ADMIN_TOKEN })).json.results.find(
        (w: { hostname: string }) => w.hostname === "worker-a",
      ),
    ).toMatchObject({ health: "Maintenance" });
    expect((await set(BOB_TOKEN, { health: "Active" })).status).toBe(403);
    expect((await set(undefined, { health: "Active" })).status).toBe(401);
    const bad = await set(ADMIN_TOKEN, { health: "Sleeping" });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("health must be Active, Maintenance or Retired");
    expect((await set(ADMIN_TOKEN, { health: "Active" }, "no-such-worker")).status).toBe(404);
    expect((await set(ADMIN_TOKEN, { health: "Active" })).status).toBe(202);
  });
});
