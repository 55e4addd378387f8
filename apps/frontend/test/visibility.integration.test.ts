import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { upsertInstances } from "@magma/db/frontend";
import { callTrpc, fakeLab, json, notifyPayload, setupTestEnv, waitFor } from "./helpers.ts";

/**
 * One read policy on every frontend surface: tRPC (jobs list/counts/get/log, search by name,
 * results matrix and trend, metadata keys), /api/v1 (job list and job), and the live log proxy —
 * for anonymous visitors, the submitter, group members, outsiders and superusers. Jobs arrive
 * through the real callback route and consumer, so visibility is what travelled in the payload.
 */

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
let lab: Awaited<ReturnType<typeof fakeLab>>;
/** Job ids whose log the fake lab was asked for (nothing of a hidden job may be fetched). */
const logFetches: number[] = [];
const tokens: Record<string, string> = {};

const def = (name: string, visibility: string) => `job_name: ${name}\ndevice_type: qemu\nvisibility: ${visibility}\n`;

/** The federation's jobs: id → payload overrides. */
const JOBS = {
  1: { description: "public job", definition: def("public job", "public"), submitter_username: "admin", visibility: "public" },
  2: {
    description: "alice private",
    definition: def("alice private", "personal"),
    submitter_username: "alice",
    visibility: "personal",
    submitter: "alice",
    metadata: { "secret.key": "s1" },
  },
  3: {
    description: "team-a job",
    definition: def("team-a job", "{group: [team-a]}"),
    submitter_username: "dave",
    visibility: { group: ["team-a"] },
  },
  // a plain LAVA lab: no `visibility` key in the payload, the definition says personal
  4: { description: "legacy personal", definition: def("legacy personal", "personal"), submitter_username: "alice" },
  // a value this frontend cannot read: superusers only
  5: {
    description: "odd visibility",
    definition: def("odd visibility", "public"),
    submitter_username: "admin",
    visibility: { nonsense: true },
  },
} as const;

type Who = "anon" | "alice" | "bob" | "carol" | "root";
const VISIBLE: Record<Who, number[]> = {
  anon: [1],
  alice: [1, 2, 3, 4],
  bob: [1],
  carol: [1],
  root: [1, 2, 3, 4, 5],
};
const WHO: Who[] = ["anon", "alice", "bob", "carol", "root"];
const headersOf = (who: Who): Record<string, string> => (who === "anon" ? {} : { authorization: `Token ${tokens[who]}` });

beforeAll(async () => {
  envCtl = await setupTestEnv();
  lab = await fakeLab((req, _body, res) => {
    const m = /^\/api\/v0\.2\/jobs\/(\d+)\/logs\/(stream\/)?\?start=0$/.exec(req.url ?? "");
    if (m) {
      logFetches.push(Number(m[1]));
      if (m[2]) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        return res.end(
          `event: line\ndata: {"line":0,"dt":"2026-12-01T00:00:00Z","lvl":"info","msg":"job ${m[1]}"}\n\nevent: end\ndata: {}\n\n`,
        );
      }
      return json(res, 200, [{ line: 0, dt: "2026-12-01T00:00:00Z", lvl: "info", msg: `job ${m[1]}` }]);
    }
    json(res, 404, { message: "not found" });
  });
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [{ name: "lab-a", url: lab.url, api_token: "api-a", callback_token: "secret-a-123" }]);
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const run = async (...a: string[]) => {
    const out: string[] = [];
    await runUsersCli(a, (l) => out.push(l));
    return out;
  };
  await run("groups", "add", "team-a");
  await run("groups", "add", "team-b");
  await run("add", "alice", "--group", "team-a");
  await run("add", "bob");
  await run("add", "carol", "--group", "team-b");
  await run("add", "root", "--superuser");
  for (const u of ["alice", "bob", "carol", "root"]) tokens[u] = (await run("tokens", "create", u))[0]!;

  const route = await import("../src/app/api/callbacks/[lab]/route.ts");
  for (const [id, over] of Object.entries(JOBS)) {
    const body = JSON.stringify(notifyPayload({ id: Number(id), ...over } as Parameters<typeof notifyPayload>[0]));
    const res = await route.POST(
      new Request("http://frontend/api/callbacks/lab-a", {
        method: "POST",
        headers: { "content-type": "application/json", "x-magma-token": "secret-a-123" },
        body,
      }),
      { params: Promise.resolve({ lab: "lab-a" }) },
    );
    expect(res.status, `callback of job ${id}`).toBe(202);
  }
  const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
  consumer = startCallbackConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }) });
  await waitFor(
    async () => ((await callTrpc("jobs.counts", { input: {}, headers: headersOf("root") })).data as { total: number }).total === 5,
    15_000,
    "5 jobs ingested",
  );
});

afterAll(async () => {
  await consumer?.close();
  await lab?.close();
  await envCtl?.cleanup();
});

describe("job visibility on every surface", () => {
  it("stores visibility and the real submitter from the callback", async () => {
    const { db } = await import("../src/server/db.ts");
    const rows = await db().federatedJob.findMany({
      orderBy: { remote_id: "asc" },
      select: { remote_id: true, visibility: true, visibility_groups: true, submitter: true },
    });
    expect(rows).toEqual([
      { remote_id: 1, visibility: "public", visibility_groups: [], submitter: "admin" },
      { remote_id: 2, visibility: "personal", visibility_groups: [], submitter: "alice" },
      { remote_id: 3, visibility: "group", visibility_groups: ["team-a"], submitter: "dave" },
      { remote_id: 4, visibility: "personal", visibility_groups: [], submitter: "alice" },
      { remote_id: 5, visibility: "restricted", visibility_groups: [], submitter: "admin" },
    ]);
  });

  for (const who of WHO) {
    it(`${who}: tRPC list, counts, search, job, log, results matrix/trend and metadata keys show exactly the readable jobs`, async () => {
      const h = headersOf(who);
      const want = VISIBLE[who];
      const list = (await callTrpc("jobs.list", { input: {}, headers: h })).data as { results: { id: number }[] };
      expect(list.results.map((j) => j.id).sort()).toEqual(want);
      const counts = (await callTrpc("jobs.counts", { input: {}, headers: h })).data as { total: number };
      expect(counts.total).toBe(want.length);
      const search = (await callTrpc("jobs.list", { input: { jobName: "private" }, headers: h })).data as { results: { id: number }[] };
      expect(search.results.map((j) => j.id)).toEqual(want.includes(2) ? [2] : []);
      for (const id of [1, 2, 3, 4, 5]) {
        const get = await callTrpc("jobs.get", { input: { lab: "lab-a", id }, headers: h });
        expect(get.status, `jobs.get ${id}`).toBe(want.includes(id) ? 200 : 404);
        const log = await callTrpc("jobs.log", { input: { lab: "lab-a", id }, headers: h });
        expect(log.status, `jobs.log ${id}`).toBe(want.includes(id) ? 200 : 404);
      }
      const matrix = (await callTrpc("results.matrix", { input: { groupBy: "kernel.tree" }, headers: h })).data as {
        keys: string[];
        rows: { jobs: number }[];
      };
      expect(matrix.rows.reduce((n, r) => n + r.jobs, 0)).toBe(want.length);
      expect(matrix.keys.includes("secret.key")).toBe(want.includes(2));
      const trend = (await callTrpc("results.trend", { input: { by: "day", days: 365 }, headers: h })).data as {
        points: { jobs: number }[];
      };
      expect(trend.points.reduce((n, p) => n + p.jobs, 0)).toBe(want.length);
    });

    it(`${who}: /api/v1 jobs and the live log proxy answer 404 for what they may not read`, async () => {
      const h = headersOf(who);
      const want = VISIBLE[who];
      const { GET: listRoute } = await import("../src/app/api/v1/jobs/route.ts");
      const { GET: jobRoute } = await import("../src/app/api/v1/jobs/[lab]/[id]/route.ts");
      const { GET: streamRoute } = await import("../src/app/api/labs/[lab]/jobs/[id]/logs/stream/route.ts");
      const all = (await (await listRoute(new Request("http://frontend/api/v1/jobs?limit=100", { headers: h }))).json()) as {
        results: { id: number }[];
      };
      expect(all.results.map((j) => j.id).sort()).toEqual(want);
      for (const id of [1, 2, 3, 4, 5]) {
        const params = { params: Promise.resolve({ lab: "lab-a", id: String(id) }) };
        const one = await jobRoute(new Request(`http://frontend/api/v1/jobs/lab-a/${id}`, { headers: h }), params);
        expect(one.status, `/api/v1/jobs/lab-a/${id}`).toBe(want.includes(id) ? 200 : 404);
        const before = logFetches.length;
        const stream = await streamRoute(
          new Request(`http://frontend/api/labs/lab-a/jobs/${id}/logs/stream?start=0`, { headers: h }),
          params,
        );
        expect(stream.status, `log stream ${id}`).toBe(want.includes(id) ? 200 : 404);
        if (want.includes(id)) expect(await stream.text()).toContain(`job ${id}`);
        else expect(logFetches.length, `the lab was not asked for job ${id}'s log`).toBe(before);
      }
    });
  }

  it("takes a Magma lab's magma.visibility over the definition's (as the consumer and reconciliation ingest it)", async () => {
    const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");
    const { db } = await import("../src/server/db.ts");
    const payload = notifyPayload({
      id: 6,
      description: "magma says group",
      definition: def("magma says group", "public"),
      submitter_username: "erin",
    });
    payload.magma = { ...payload.magma!, visibility: { group: ["team-b", "team-a"] } } as typeof payload.magma;
    await ingestCallback({
      db: db(),
      job: { instance: "lab-a", receivedAt: new Date().toISOString(), payload },
      log: pino({ level: "silent" }),
    });
    const row = await db().federatedJob.findFirst({ where: { remote_id: 6 }, select: { visibility: true, visibility_groups: true } });
    expect(row).toEqual({ visibility: "group", visibility_groups: ["team-a", "team-b"] });
    expect((await callTrpc("jobs.get", { input: { lab: "lab-a", id: 6 }, headers: headersOf("carol") })).status).toBe(200);
    expect((await callTrpc("jobs.get", { input: { lab: "lab-a", id: 6 }, headers: headersOf("bob") })).status).toBe(404);
  });

  it("an invalid token is refused (401), never served as anonymous", async () => {
    const { GET: listRoute } = await import("../src/app/api/v1/jobs/route.ts");
    const res = await listRoute(new Request("http://frontend/api/v1/jobs", { headers: { authorization: "Token forged-000000000000" } }));
    expect(res.status).toBe(401);
    expect((await callTrpc("jobs.list", { input: {}, headers: { authorization: "Token forged-000000000000" } })).status).toBe(401);
  });
});
