/**
 * Issue 5, control and bad input against the real processes: cancellation and timeouts never leave a
 * device Reserved/Running or a QEMU behind; double submissions and re-run queue jobs create one job
 * per lab; bad input (submissions, callbacks, DUT output, names) gets a clear error or is stored and
 * shown safely, and changes nothing else.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { CALLBACK_DELIVERY_HEADER, CALLBACK_SIGNATURE_HEADER, CALLBACK_TIMESTAMP_HEADER } from "@magma/protocol";
import { signPayload } from "@magma/db/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trpcMutation, trpcQuery, waitFor } from "../../infra/demo/clients.ts";
import { labJob, log, q, startFaultStack, submit, waitJob, type FaultStack } from "./lib/fault-stack.ts";
import { waitConsistent } from "./lib/invariants.ts";
import { faultJob, quickSteps, tickSteps } from "./lib/jobs.ts";

let f: FaultStack;
beforeAll(async () => {
  f = await startFaultStack({ reconcileMs: 5000 });
});
afterAll(async () => {
  await f?.stop();
});

const finished = (j: { state: string }) => j.state === "Finished";
const userCases = async (lab: string, id: number) =>
  (
    await q<{ n: number }>(
      f,
      lab,
      "SELECT count(*)::int AS n FROM test_cases c JOIN test_suites s ON s.id = c.suite_id WHERE c.job_id = $1 AND s.name <> 'lava'",
      [id],
    )
  )[0]!.n;
const jobCount = async (lab: string) => (await q<{ n: number }>(f, lab, "SELECT count(*)::int AS n FROM test_jobs"))[0]!.n;
const deviceOf = async (lab: string) =>
  (await q<{ state: string; current_job_id: number | null }>(f, lab, "SELECT state::text, current_job_id FROM devices"))[0]!;
/**
 * POSTs a callback body. With `sign` (the lab's signing secret) it carries the signature headers a
 * Magma lab sends: a fresh timestamp, `delivery` (default: a new id) and the HMAC of the exact body.
 */
const post = (url: string, body: unknown, headers: Record<string, string> = {}, sign?: { secret: string; delivery?: string }) => {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signature: Record<string, string> = {};
  if (sign) {
    const ts = Math.floor(Date.now() / 1000);
    signature[CALLBACK_TIMESTAMP_HEADER] = String(ts);
    signature[CALLBACK_DELIVERY_HEADER] = sign.delivery ?? randomUUID();
    signature[CALLBACK_SIGNATURE_HEADER] = signPayload(sign.secret, ts, text);
  }
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...signature, ...headers }, body: text });
};

describe("cancellation and timeouts", () => {
  it("a cancel reaches the worker within seconds, the DUT is powered off and the device is Idle; an action timeout ends LAVATimeout", async () => {
    const job = (name: string, steps: string[], o: { testTimeoutS?: number; jobTimeoutS?: number } = {}) =>
      faultJob({ artifactsUrl: f.stack.artifactsUrl, name, steps, ...o });
    const a = await submit(f, "lab-a", job("canceled mid-test", tickSteps(120)));
    const b = await submit(f, "lab-b", job("test action times out", ["echo sleeping", "sleep 300"], { testTimeoutS: 8 }));
    await waitFor("job a in its test phase", 180_000, async () => ((await userCases("lab-a", a)) >= 2 ? true : undefined));
    const t0 = Date.now();
    const r = await post(`${f.lab("lab-a").url}/api/v0.2/jobs/${a}/cancel/`, {}, { authorization: `Token ${f.stack.adminToken}` });
    expect(r.status).toBe(200);
    const ja = await waitJob(f, "lab-a", a, "Canceled", finished, 30_000);
    const cancelMs = Date.now() - t0;
    log(`cancel took ${cancelMs} ms`);
    expect(ja.health).toBe("Canceled");
    expect(cancelMs).toBeLessThan(20_000);
    await waitFor("lab-a's QEMU powered off", 15_000, async () => (f.qemuPids("lab-a").length === 0 ? true : undefined), 200);
    expect(await deviceOf("lab-a")).toEqual({ state: "Idle", current_job_id: null });

    const jb = await waitJob(f, "lab-b", b, "timed out", finished, 180_000);
    expect(jb).toMatchObject({ health: "Incomplete", error_type: "LAVATimeout" });
    expect(jb.failure_comment).toMatch(/timed out after \d+ seconds/);
    await waitFor("lab-b's QEMU powered off", 15_000, async () => (f.qemuPids("lab-b").length === 0 ? true : undefined), 200);
    expect(await deviceOf("lab-b")).toEqual({ state: "Idle", current_job_id: null });

    // a job timeout (whole job) too, and the devices run the next job
    const c = await submit(f, "lab-a", job("job times out", tickSteps(300), { jobTimeoutS: 35 }));
    const d = await submit(f, "lab-b", job("after a timeout", quickSteps()));
    const jc = await waitJob(f, "lab-a", c, "timed out", finished, 180_000);
    expect(jc).toMatchObject({ health: "Incomplete", error_type: "LAVATimeout" });
    expect(await waitJob(f, "lab-b", d, "Complete", finished)).toMatchObject({ health: "Complete" });
    await waitConsistent(f, 60_000);
  });
});

describe("idempotent submission fan-out", () => {
  it("double-submitting through tRPC and re-running the queue jobs creates one job per lab", async () => {
    const name = `fan-out ${randomUUID()}`;
    const definition = faultJob({ artifactsUrl: f.stack.artifactsUrl, name, steps: quickSteps() });
    const input = { clientRequestId: randomUUID(), definition, labs: ["lab-a", "lab-b"] };
    const [s1, s2] = await Promise.all([
      trpcMutation<{ id: string; created: boolean }>(f.stack.frontendUrl, "submissions.create", input, f.stack.adminToken),
      trpcMutation<{ id: string; created: boolean }>(f.stack.frontendUrl, "submissions.create", input, f.stack.adminToken),
    ]);
    const s3 = await trpcMutation<{ id: string; created: boolean }>(f.stack.frontendUrl, "submissions.create", input, f.stack.adminToken);
    expect(new Set([s1.id, s2.id, s3.id]).size).toBe(1);
    expect([s1.created, s2.created, s3.created].filter(Boolean)).toHaveLength(1);
    type Sub = { targets: { lab: string; status: string; remoteJobId?: number | null }[] };
    const done = await waitFor("both targets submitted", 60_000, async () => {
      const s = await trpcQuery<Sub>(f.stack.frontendUrl, "submissions.get", { id: s1.id }, f.stack.adminToken);
      return s.targets.every((t) => t.status === "submitted") ? s : undefined;
    });
    // the queue delivers again (a retry after a lost ack): same jobs, no second one
    const targets = await q<{ id: string; lab: string }>(
      f,
      "frontend",
      "SELECT t.id, i.name AS lab FROM submission_target t JOIN instance i ON i.id = t.instance_id WHERE t.submission_id = $1",
      [s1.id],
    );
    const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue("magma-submissions", { connection, prefix: f.queuePrefix });
    for (const t of targets) await queue.add("deliver", { submissionId: s1.id, targetId: t.id, lab: t.lab }, { jobId: `retry-${t.id}` });
    // and the frontend forgets it delivered them (the worst case): the lab's Idempotency-Key still holds
    await q(f, "frontend", "UPDATE submission_target SET status = 'queued', remote_job_id = NULL WHERE submission_id = $1", [s1.id]);
    for (const t of targets) await queue.add("deliver", { submissionId: s1.id, targetId: t.id, lab: t.lab }, { jobId: `retry2-${t.id}` });
    const again = await waitFor("both targets submitted again", 60_000, async () => {
      const s = await trpcQuery<Sub>(f.stack.frontendUrl, "submissions.get", { id: s1.id }, f.stack.adminToken);
      return s.targets.every((t) => t.status === "submitted") ? s : undefined;
    });
    await queue.close();
    connection.disconnect();
    const ids = (s: Sub) => Object.fromEntries(s.targets.map((t) => [t.lab, t.remoteJobId]));
    expect(ids(again)).toEqual(ids(done));
    for (const lab of ["lab-a", "lab-b"]) {
      const rows = await q(f, lab, "SELECT id FROM test_jobs WHERE description = $1", [name]);
      expect(rows, lab).toHaveLength(1);
    }
  });
});

describe("bad input", () => {
  it("bad job definitions get a clear 400 and create nothing", async () => {
    const lab = f.lab("lab-a");
    const good = faultJob({ artifactsUrl: f.stack.artifactsUrl, name: "ok", steps: quickSteps() });
    const before = await jobCount("lab-a");
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(", ")}]`,
      ),
    ].join("\n");
    const cases: [string, string, RegExp][] = [
      ["malformed YAML", "job_name: [unclosed\n  device_type: qemu", /YAML syntax error/],
      ["wrong type", good.replace(/^priority: medium$/m, "priority: [1, 2]"), /priority/],
      ["unknown method", good.replace("method: qemu", "method: teleport"), /method/],
      ["alias bomb", bomb, /alias/i],
      ["over the size limit", `${good}\n# ${"x".repeat(600 * 1024)}`, /over the limit/],
      ["not a mapping", "- just\n- a list", /expected a dictionary/],
      ["invalid UTF-8 / binary", "job_name: \udc80\u0000\u0001", /Job invalid/],
    ];
    for (const [what, definition, msg] of cases) {
      const r = await post(`${lab.url}/api/v0.2/jobs/`, { definition }, { authorization: `Token ${f.stack.adminToken}` });
      const body = (await r.json()) as { message?: string };
      expect(r.status, what).toBe(400);
      expect(body.message, what).toMatch(msg);
    }
    const raw = await fetch(`${lab.url}/api/v0.2/jobs/`, {
      method: "POST",
      headers: { authorization: `Token ${f.stack.adminToken}`, "content-type": "application/json" },
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x22]),
    });
    expect(raw.status).toBe(400);
    const trBody = JSON.stringify({ clientRequestId: randomUUID(), definition: "job_name: [", labs: ["lab-a"] });
    // anonymous: refused before the definition is even read (submitting needs a login)
    const anon = await fetch(`${f.stack.frontendUrl}/api/trpc/submissions.create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: trBody,
    });
    expect(anon.status).toBe(401);
    const tr = await fetch(`${f.stack.frontendUrl}/api/trpc/submissions.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Token ${f.stack.adminToken}` },
      body: trBody,
    });
    expect(tr.status).toBe(400);
    expect(await jobCount("lab-a")).toBe(before);
    expect(
      (await q<{ n: number }>(f, "frontend", "SELECT count(*)::int AS n FROM submission WHERE definition = 'job_name: ['"))[0]!.n,
    ).toBe(0);
  });

  it("callbacks with wrong or missing tokens, bad bodies, unknown labs are refused; a replayed callback counts once; unknown ids are 404", async () => {
    const a = f.lab("lab-a");
    const id = await submit(f, "lab-a", faultJob({ artifactsUrl: f.stack.artifactsUrl, name: "replayed", steps: quickSteps() }));
    await waitJob(f, "lab-a", id, "Finished", finished);
    await waitConsistent(f, 60_000);
    const payload = await (
      await fetch(`${a.url}/api/v0.2/magma/jobs/${id}/federation/`, { headers: { authorization: `Token ${f.stack.adminToken}` } })
    ).json();
    const cb = `${f.stack.frontendUrl}/api/callbacks/lab-a`;
    const key = { secret: a.federationSigningSecret };
    const token = { "x-magma-token": a.federationToken };
    // lab-a signs its callbacks: an unsigned one is refused before anything else, with or without a token
    expect((await post(cb, payload)).status).toBe(401);
    expect((await post(cb, payload, token)).status).toBe(401);
    // signed, but with a wrong token, or signed with a wrong secret
    expect((await post(cb, payload, { "x-magma-token": "wrong-token-123456" }, key)).status).toBe(403);
    expect((await post(cb, payload, { authorization: "Token wrong-token-123456" }, key)).status).toBe(403);
    expect((await post(cb, payload, token, { secret: "not-the-lab-secret-0123456789" })).status).toBe(403);
    expect((await post(`${f.stack.frontendUrl}/api/callbacks/lab-zzz`, payload, token, key)).status).toBe(404);
    expect((await post(cb, "{not json", token, key)).status).toBe(400);
    expect((await post(cb, { ...payload, id: "seven" }, token, key)).status).toBe(400);
    const feCases = async () =>
      (
        await q<{ n: number }>(
          f,
          "frontend",
          "SELECT count(*)::int AS n FROM federated_test_case c JOIN instance i ON i.id = c.instance_id WHERE i.name = 'lab-a' AND c.remote_job_id = $1",
          [id],
        )
      )[0]!.n;
    const before = await feCases();
    // the lab re-sends the same callback (new deliveries): accepted and counted once; one delivery id twice is a replay
    for (let i = 0; i < 3; i++) expect((await post(cb, payload, token, key)).status).toBe(202);
    const delivery = randomUUID();
    expect((await post(cb, payload, token, { ...key, delivery })).status).toBe(202);
    expect((await post(cb, payload, token, { ...key, delivery })).status).toBe(409);
    // a replayed *older* callback (Running) must not move the job backwards
    const stale = await post(
      cb,
      { ...payload, state: 3, state_string: "Running", health: 0, health_string: "Unknown", results: {} },
      token,
      key,
    );
    expect(stale.status).toBe(202);
    const { job_id: staleJobId } = (await stale.json()) as { job_id: string };
    const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue("magma-callbacks", { connection, prefix: f.queuePrefix });
    await waitFor("the stale replay consumed", 30_000, async () => ((await queue.getJob(staleJobId))?.finishedOn ? true : undefined));
    await queue.close();
    connection.disconnect();
    await waitConsistent(f, 30_000);
    expect(await feCases()).toBe(before);
    const fe = await (await fetch(`${f.stack.frontendUrl}/api/v1/jobs/lab-a/${id}`)).json();
    expect(fe).toMatchObject({ state: "Finished", health: "Complete" });

    expect((await fetch(`${f.stack.frontendUrl}/api/v1/jobs/lab-a/987654`)).status).toBe(404);
    expect((await fetch(`${f.stack.frontendUrl}/api/v1/jobs/lab-zzz/1`)).status).toBe(404);
    expect((await fetch(`${a.url}/api/v0.2/jobs/987654/`)).status).toBe(404);
    expect((await fetch(`${a.url}/api/v0.2/jobs/987654/logs/`)).status).toBe(404);
    expect(
      (await post(`${a.url}/scheduler/internal/v1/jobs/987654/logs/`, { index: 0, lines: [] }, { "lava-token": "nope" })).status,
    ).toBeGreaterThanOrEqual(400);
  });

  it("SQL/HTML/ANSI injection in names and metadata, and huge, binary and invalid UTF-8 DUT output: stored as data, shown safely, logs contiguous", async () => {
    const evil = `<script>alert("x")</script>'; DROP TABLE test_jobs; -- \u001b[31mred`;
    const definition = faultJob({
      artifactsUrl: f.stack.artifactsUrl,
      name: evil,
      metadata: { "note'); DELETE FROM federated_job; --": `<img src=x onerror=alert(1)> \u001b]0;title\u0007` },
      steps: [
        `printf '<script>alert(1)</script> \\033[31mred\\033[0m \\377\\376\\375 bad-utf8 \\001\\002\\n'`,
        "head -c 3000 /dev/urandom | tr -d '\\000'; echo",
        "head -c 100000 /dev/zero | tr '\\000' x; echo",
        "lava-test-case after-garbage --result pass",
      ],
    });
    const id = await submit(f, "lab-b", definition);
    const j = await waitJob(f, "lab-b", id, "Finished", finished);
    expect(j.health).toBe("Complete");
    expect(await userCases("lab-b", id)).toBe(1);
    await waitConsistent(f, 60_000);
    const fe = (await (await fetch(`${f.stack.frontendUrl}/api/v1/jobs/lab-b/${id}`)).json()) as {
      description?: string;
      metadata?: Record<string, string>;
    };
    expect(fe.description).toBe(evil);
    expect(Object.keys(fe.metadata ?? {})).toContain("note'); DELETE FROM federated_job; --");
    const html = await (await fetch(`${f.stack.frontendUrl}/jobs/lab-b/${id}`)).text();
    expect(html).not.toContain('<script>alert("x")</script>');
    expect(html).not.toContain("<img src=x onerror");
    const logRes = await fetch(`${f.lab("lab-b").url}/api/v0.2/jobs/${id}/logs/`, { headers: { accept: "application/json" } });
    expect(logRes.status).toBe(200);
    const lines = (await logRes.json()) as { msg: unknown }[];
    expect(lines.some((l) => String(l.msg).includes("<script>alert(1)</script>"))).toBe(true);
    expect((await labJob(f, "lab-b", id)).state).toBe("Finished"); // test_jobs still there
  });
});
