import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUBMITTER_HEADER, ZFinishedJobsPage, ZNotifyPayload, ZPingResponse } from "@magma/protocol";
import { readStream, type Frame } from "../testing/sse.ts";
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

const CAROL_TOKEN = "carol-token-0123456789abcdef";
const DAVE_TOKEN = "dave-token-0123456789abcdefg";
const FED_TOKEN = "labfed-token-0123456789abcdef";

const LAB = `
users:
  - {username: admin, superuser: true, tokens: [{secret: ${ADMIN_TOKEN}, description: admin, federation: true}]}
  - {username: bob, tokens: [{secret: ${BOB_TOKEN}, description: cb-token}]}
  - {username: carol, groups: [team-a], tokens: [{secret: ${CAROL_TOKEN}}]}
  - {username: dave, groups: [team-a, team-b], tokens: [{secret: ${DAVE_TOKEN}}]}
  - {username: labfed, tokens: [{secret: ${FED_TOKEN}, federation: true}]}
workers:
  - {hostname: worker-a, token: ${WORKER_TOKEN}}
device_types:
  - {name: qemu, dictionary: {qemu: {binary: qemu-system-x86_64, memory_mb: 256}}}
devices:
  - {hostname: qemu-01, device_type: qemu, worker: worker-a}
`;

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
/** job ids by visibility, all submitted by bob and finished */
const ids: Record<"public" | "personal" | "teamA" | "teamAB", number> = { public: 0, personal: 0, teamA: 0, teamAB: 0 };

async function runToEnd(jobId: number): Promise<void> {
  const { token } = await waitUntil(
    async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
    5000,
    `job ${jobId} start`,
  );
  await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
  await jobCall(h, "POST", `${jobId}/logs/`, token, {
    index: 0,
    lines: [{ dt: "2026-12-01T10:00:00.000000", lvl: "results", msg: { case: "c1", definition: "0_t", result: "pass" } }],
  });
  await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
}

beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({ lab: LAB, config: { federationCallbackUrl: `${rx.url}/federation/lab-a` } });
  await h.db.device.update({ where: { hostname: "qemu-01" }, data: { health: "Good" } });
  ids.personal = await submit(h, jobYaml({ name: "personal", visibility: "personal" }), BOB_TOKEN);
  await runToEnd(ids.personal);
  ids.teamA = await submit(h, jobYaml({ name: "team-a", visibility: "{group: [team-a]}" }), BOB_TOKEN);
  await runToEnd(ids.teamA);
  ids.teamAB = await submit(h, jobYaml({ name: "team-ab", visibility: "{group: [team-a, team-b]}" }), BOB_TOKEN);
  await runToEnd(ids.teamAB);
  ids.public = await submit(h, jobYaml({ name: "public" }), BOB_TOKEN);
  await runToEnd(ids.public);
});
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

const WHO = { anonymous: undefined, bob: BOB_TOKEN, carol: CAROL_TOKEN, dave: DAVE_TOKEN, admin: ADMIN_TOKEN } as const;
type Who = keyof typeof WHO;
/** What each caller may see (LAVA: personal → submitter + superusers; group → members of EVERY listed group). */
const SEES: Record<Who, (keyof typeof ids)[]> = {
  anonymous: ["public"],
  carol: ["public", "teamA"],
  dave: ["public", "teamA", "teamAB"],
  bob: ["public", "personal", "teamA", "teamAB"],
  admin: ["public", "personal", "teamA", "teamAB"],
};

const rpc = async (method: string, params: string, token?: [string, string]) => {
  const headers: Record<string, string> = { "content-type": "text/xml" };
  if (token) headers["authorization"] = `Basic ${Buffer.from(`${token[0]}:${token[1]}`).toString("base64")}`;
  const r = await fetch(`${h.baseUrl}/RPC2`, {
    method: "POST",
    headers,
    body: `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`,
  });
  return r.text();
};

describe("job visibility on every instance surface (one policy: packages/db instance repositories/job-visibility.ts)", () => {
  for (const who of Object.keys(WHO) as Who[]) {
    it(`${who}: REST list/detail/logs/results/exports, XML-RPC and the federation feed agree`, async () => {
      const token = WHO[who];
      const want = SEES[who].map((k) => ids[k]).sort((a, b) => a - b);
      const list = await api(h, "GET", "/api/v0.2/jobs/?limit=100", { token });
      expect(list.status).toBe(200);
      expect((list.json.results as { id: number }[]).map((j) => j.id).sort((a, b) => a - b)).toEqual(want);
      expect(list.json.count).toBe(want.length);
      const feed = ZFinishedJobsPage.parse((await api(h, "GET", "/api/v0.2/magma/finished-jobs/", { token })).json);
      expect(feed.results.map((r) => r.id).sort((a, b) => a - b)).toEqual(want);
      for (const [k, id] of Object.entries(ids)) {
        const visible = SEES[who].includes(k as keyof typeof ids);
        const expected = visible ? 200 : 404;
        for (const path of [
          `jobs/${id}/`,
          `jobs/${id}/logs/`,
          `jobs/${id}/suites/`,
          `jobs/${id}/tests/`,
          `jobs/${id}/results/`,
          `jobs/${id}/csv/`,
          `jobs/${id}/yaml/`,
          `jobs/${id}/junit/`,
          `magma/jobs/${id}/federation/`,
        ]) {
          expect((await api(h, "GET", `/api/v0.2/${path}`, { token })).status, `${who} GET ${path} (${k})`).toBe(expected);
        }
        if (who !== "anonymous") {
          const show = await rpc("scheduler.jobs.show", `<param><value><int>${id}</int></value></param>`, [who, token!]);
          if (visible) expect(show, `${who} jobs.show ${k}`).toContain("<name>id</name>");
          else expect(show, `${who} jobs.show ${k}`).toContain("<int>404</int>");
        }
      }
    });
  }

  it("only the submitter or a superuser may cancel; others get 404 for what they cannot see, 403 for what they can", async () => {
    const queued = await submit(h, jobYaml({ name: "queued-team-a", visibility: "{group: [team-a]}" }), BOB_TOKEN);
    expect((await api(h, "POST", `/api/v0.2/jobs/${queued}/cancel/`, { token: DAVE_TOKEN })).status).toBe(403);
    expect((await api(h, "POST", `/api/v0.2/jobs/${ids.personal}/cancel/`, { token: CAROL_TOKEN })).status).toBe(404);
    expect((await api(h, "POST", `/api/v0.2/jobs/${queued}/cancel/`, { token: BOB_TOKEN })).status).toBe(200);
  });

  it("the events stream: anonymous readers get public jobs only; members get their group jobs; a hidden job id never leaks", async () => {
    const lastPublicDone = (f: Frame[]) =>
      f.some(
        (x) =>
          x.event === "org.lavasoftware.testjob" &&
          JSON.parse(x.frames[4]).job === ids.public &&
          JSON.parse(x.frames[4]).state === "Finished",
      );
    const jobsIn = (frames: Frame[]) => new Set(frames.map((f) => JSON.parse(f.frames[4]).job).filter((j) => typeof j === "number"));
    // every event is already stored, so one read holds them all; compare with what REST lists
    const restIds = async (token?: string) =>
      new Set(((await api(h, "GET", "/api/v0.2/jobs/?limit=100", { token })).json.results as { id: number }[]).map((j) => j.id));
    const anon = await readStream(`${h.baseUrl}/api/v0.2/events/`, lastPublicDone);
    expect(jobsIn(anon)).toEqual(new Set([ids.public]));
    expect(jobsIn(anon)).toEqual(await restIds());
    const carol = await readStream(`${h.baseUrl}/api/v0.2/events/`, lastPublicDone, { authorization: `Token ${CAROL_TOKEN}` });
    expect(jobsIn(carol)).toEqual(await restIds(CAROL_TOKEN));
    expect(jobsIn(carol).has(ids.teamA) && !jobsIn(carol).has(ids.teamAB) && !jobsIn(carol).has(ids.personal)).toBe(true);
    // device events are still there (without the hidden job's id)
    expect(anon.filter((f) => f.event === "org.lavasoftware.device").length).toBe(
      carol.filter((f) => f.event === "org.lavasoftware.device").length,
    );
    const admin = await readStream(`${h.baseUrl}/api/v0.2/events/`, lastPublicDone, { authorization: `Token ${ADMIN_TOKEN}` });
    expect(jobsIn(admin)).toEqual(await restIds(ADMIN_TOKEN));
    for (const id of Object.values(ids)) expect(jobsIn(admin).has(id)).toBe(true);
    expect(
      (await fetch(`${h.baseUrl}/api/v0.2/events/`, { headers: { authorization: "Token not-a-valid-token-0123456789" } })).status,
    ).toBe(401);
  });
});

describe("visibility and submitter travel with the federation data", () => {
  const WIRE = { public: "public", personal: "personal", teamA: { group: ["team-a"] }, teamAB: { group: ["team-a", "team-b"] } } as const;

  it("the federation callback (a real POST to a real receiver) carries magma.visibility and submitter_username", async () => {
    for (const [k, id] of Object.entries(ids)) {
      const got = await waitUntil(
        () =>
          rx.received.find(
            (r) => r.url === "/federation/lab-a" && JSON.parse(r.body).id === id && JSON.parse(r.body).state_string === "Finished",
          ),
        10_000,
        `callback of ${k}`,
      );
      const p = ZNotifyPayload.parse(JSON.parse(got.body));
      expect(p.magma?.visibility, k).toEqual(WIRE[k as keyof typeof WIRE]);
      expect(p.submitter_username).toBe("bob");
    }
  });

  it("the reconciliation feed and the federation payload carry them too", async () => {
    const feed = ZFinishedJobsPage.parse((await api(h, "GET", "/api/v0.2/magma/finished-jobs/", { token: ADMIN_TOKEN })).json);
    for (const [k, id] of Object.entries(ids)) {
      const ref = feed.results.find((r) => r.id === id)!;
      expect(ref, k).toMatchObject({ visibility: WIRE[k as keyof typeof WIRE], submitter: "bob" });
      const p = ZNotifyPayload.parse((await api(h, "GET", `/api/v0.2/magma/jobs/${id}/federation/`, { token: ADMIN_TOKEN })).json);
      expect(p.magma?.visibility).toEqual(WIRE[k as keyof typeof WIRE]);
      expect(p.submitter_username).toBe("bob");
    }
  });

  it("old receivers still parse: the new fields are optional", () => {
    expect(
      ZFinishedJobsPage.parse({
        results: [{ id: 1, end_time: "2026-12-01T10:00:00.000000Z", health: "Complete", test_case_count: 0, log_line_count: 0 }],
        next: null,
      }).results[0]!.visibility,
    ).toBeUndefined();
  });
});

describe(`acting for a named user (${SUBMITTER_HEADER})`, () => {
  const asUser = (token: string | undefined, name: string, method: string, path: string, body?: unknown) =>
    api(h, method, path, { token, body, headers: { [SUBMITTER_HEADER]: name } });

  it("a federation token submits as alice: alice is created (not a superuser) and recorded as the submitter", async () => {
    expect(await h.db.user.findUnique({ where: { username: "alice" } })).toBeNull();
    const r = await asUser(ADMIN_TOKEN, "alice", "POST", "/api/v0.2/jobs/", {
      definition: jobYaml({ name: "by-alice", visibility: "personal" }),
    });
    expect(r.status).toBe(201);
    const id = r.json.job_ids[0] as number;
    expect(await h.db.user.findUniqueOrThrow({ where: { username: "alice" } })).toMatchObject({ isSuperuser: false });
    expect((await api(h, "GET", `/api/v0.2/jobs/${id}/`, { token: ADMIN_TOKEN })).json).toMatchObject({ submitter: "alice" });
    // reads on behalf follow alice's visibility: her personal job yes, bob's personal job no
    expect((await asUser(ADMIN_TOKEN, "alice", "GET", `/api/v0.2/jobs/${id}/`)).status).toBe(200);
    expect((await asUser(ADMIN_TOKEN, "alice", "GET", `/api/v0.2/jobs/${ids.personal}/`)).status).toBe(404);
    expect((await api(h, "GET", `/api/v0.2/jobs/${id}/`, { token: BOB_TOKEN })).status).toBe(404);
    expect((await asUser(ADMIN_TOKEN, "alice", "GET", "/api/v0.2/system/whoami/")).json).toEqual({ user: "alice" });
    // the same name again reuses the user
    expect((await asUser(FED_TOKEN, "alice", "POST", "/api/v0.2/jobs/", { definition: jobYaml({ name: "by-alice-2" }) })).status).toBe(201);
    expect(await h.db.user.count({ where: { username: "alice" } })).toBe(1);
  });

  it("refuses the header without a token, with a token lacking the capability, with a bad name, and a superuser named by a non-superuser's token", async () => {
    const users = await h.db.user.count();
    const jobs = await h.db.testJob.count();
    const def = { definition: jobYaml({ name: "refused" }) };
    const anon = await asUser(undefined, "mallory", "POST", "/api/v0.2/jobs/", def);
    expect(anon.status).toBe(401);
    expect(anon.json.message).toContain(SUBMITTER_HEADER);
    const bob = await asUser(BOB_TOKEN, "mallory", "POST", "/api/v0.2/jobs/", def);
    expect(bob.status).toBe(403);
    expect(bob.json.message).toContain("federation capability");
    const bad = await asUser(ADMIN_TOKEN, "mal lory", "POST", "/api/v0.2/jobs/", def);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe(`${SUBMITTER_HEADER}: 'mal lory' must be 1 to 150 letters, digits or @.+-_`);
    const escalate = await asUser(FED_TOKEN, "admin", "POST", "/api/v0.2/jobs/", def);
    expect(escalate.status).toBe(403);
    expect(escalate.json.message).toContain("superuser 'admin'");
    expect(await h.db.user.count()).toBe(users);
    expect(await h.db.testJob.count()).toBe(jobs);
    // a superuser's federation token may act as the superuser admin
    expect((await asUser(ADMIN_TOKEN, "admin", "GET", "/api/v0.2/system/whoami/")).json).toEqual({ user: "admin" });
  });
});
