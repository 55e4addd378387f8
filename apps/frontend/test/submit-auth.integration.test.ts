import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { QUEUE_NAMES } from "@magma/protocol";
import { upsertInstances } from "@magma/db/frontend";
import { callTrpc, fakeLab, json, setupTestEnv, waitFor } from "./helpers.ts";

const DEFINITION = `job_name: auth smoke
device_type: qemu
visibility: personal
timeouts:
  job: {minutes: 5}
actions:
- boot:
    method: qemu
    prompts: ["/ #"]
`;

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
const labs: Array<Awaited<ReturnType<typeof fakeLab>>> = [];
/** Submitter header of each POST a fake lab received. */
const posted: Record<string, string[]> = {};
const tokens: Record<string, string> = {};

async function startLab(name: string) {
  posted[name] = [];
  const lab = await fakeLab((req, _body, res) => {
    if (req.url === "/api/v0.2/magma/overview/") {
      return json(res, 200, {
        name,
        version: "t",
        workers: [],
        devices: [],
        device_types: ["qemu"],
        queue: { submitted: 0, scheduled: 0, running: 0 },
      });
    }
    if (req.method === "POST" && req.url === "/api/v0.2/jobs/") {
      posted[name]!.push(String(req.headers["x-magma-submitter"]));
      return json(res, 201, { message: "ok", job_ids: [40 + posted[name]!.length] });
    }
    json(res, 404, { message: "not found" });
  });
  labs.push(lab);
  return { name, url: lab.url, api_token: `api-${name}`, callback_token: `cb-${name}-secret` };
}

/** Rows in the submission tables and jobs in the submissions queue: all must stay 0 after a refusal. */
async function queuedAnything(): Promise<number> {
  const c = new pg.Client({ connectionString: envCtl.database.url });
  await c.connect();
  const rows = Number(
    (await c.query(`SELECT (SELECT count(*) FROM submission) + (SELECT count(*) FROM submission_target) AS n`)).rows[0].n,
  );
  await c.end();
  const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const q = new Queue(QUEUE_NAMES.submissions, { connection, prefix: envCtl.prefix });
  const counts = await q.getJobCounts();
  await q.close();
  connection.disconnect();
  return rows + Object.values(counts).reduce((a, b) => a + b, 0);
}

const api = async (method: "POST" | "GET", path: string, opts: { token?: string; body?: unknown; raw?: string } = {}) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.token) headers["authorization"] = `Token ${opts.token}`;
  const url = `http://127.0.0.1:3000${path}`;
  let res: Response;
  if (method === "POST") {
    const { POST } = await import("../src/app/api/v1/submissions/route.ts");
    res = await POST(new Request(url, { method, headers, body: opts.raw ?? JSON.stringify(opts.body) }));
  } else {
    const { GET } = await import("../src/app/api/v1/submissions/[id]/route.ts");
    res = await GET(new Request(url, { headers }), { params: Promise.resolve({ id: path.split("/").pop()! }) });
  }
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [await startLab("lab-a"), await startLab("lab-b")]);
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const run = async (...a: string[]) => {
    const out: string[] = [];
    await runUsersCli(a, (l) => out.push(l));
    return out;
  };
  await run("groups", "add", "team-a");
  await run("groups", "grant", "team-a", "lab-a");
  await run("add", "alice", "--group", "team-a");
  await run("add", "bob");
  await run("add", "root", "--superuser");
  for (const u of ["alice", "bob", "root"]) tokens[u] = (await run("tokens", "create", u))[0]!;
});

afterAll(async () => {
  await consumer?.close();
  for (const l of labs) await l.close();
  await envCtl?.cleanup();
});

describe("submitting needs a login", () => {
  it("refuses anonymous submissions on tRPC and /api/v1 with 401, and nothing is stored or queued", async () => {
    const t = await callTrpc("submissions.create", {
      mutation: true,
      input: { clientRequestId: "anon-request-1", definition: DEFINITION, labs: ["lab-a"] },
    });
    expect(t.status).toBe(401);
    expect(t.error?.message).toMatch(/^Log in/);
    const a = await api("POST", "/api/v1/submissions", { body: { definition: DEFINITION, labs: ["lab-a"] } });
    expect(a.status).toBe(401);
    expect(a.body).toMatchObject({ code: "UNAUTHENTICATED" });
    const forged = await api("POST", "/api/v1/submissions", {
      token: "forged-token-000000",
      body: { definition: DEFINITION, labs: ["lab-a"] },
    });
    expect(forged.status).toBe(401);
    expect(await queuedAnything()).toBe(0);
    expect(posted["lab-a"]).toEqual([]);
  });

  it("refuses a lab outside the user's groups with 403 naming it, and nothing is stored or queued", async () => {
    const a = await api("POST", "/api/v1/submissions", {
      token: tokens["alice"],
      body: { definition: DEFINITION, labs: ["lab-a", "lab-b"] },
    });
    expect(a.status).toBe(403);
    expect(a.body["message"]).toBe(
      'You may not submit to lab "lab-b": none of your groups (team-a) may use it (ask a superuser to grant it)',
    );
    const b = await callTrpc("submissions.create", {
      mutation: true,
      input: { clientRequestId: "bob-request-1", definition: DEFINITION, labs: ["lab-a"] },
      headers: { authorization: `Token ${tokens["bob"]}` },
    });
    expect(b.status).toBe(403);
    expect(b.error?.message).toMatch(/lab "lab-a": you are in no group/);
    expect(await queuedAnything()).toBe(0);
  });

  it("names the bad field of a malformed body", async () => {
    const notJson = await api("POST", "/api/v1/submissions", { token: tokens["alice"], raw: "{definition:" });
    expect(notJson.status).toBe(400);
    expect(notJson.body["message"]).toMatch(/^body is not JSON/);
    const noLabs = await api("POST", "/api/v1/submissions", { token: tokens["alice"], body: { definition: DEFINITION, labs: [] } });
    expect(noLabs.body["message"]).toBe('labs: choose at least one lab (or "any")');
    const badDef = await api("POST", "/api/v1/submissions", {
      token: tokens["alice"],
      body: { definition: "job_name: x\n", labs: ["lab-a"] },
    });
    expect(badDef.status).toBe(400);
    expect(badDef.body["message"]).toContain("data['device_type']");
    expect(await queuedAnything()).toBe(0);
  });

  it("submits as the user: the lab gets X-Magma-Submitter, and only the submitter and superusers see the submission", async () => {
    const a = await api("POST", "/api/v1/submissions", { token: tokens["alice"], body: { definition: DEFINITION, labs: ["lab-a"] } });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ submitter: "alice", targets: [{ lab: "lab-a", status: "queued", job_id: null, error: null }] });
    const id = a.body["id"] as string;

    const { startSubmissionConsumer } = await import("../src/server/queues/submission-consumer.ts");
    const { db } = await import("../src/server/db.ts");
    consumer = startSubmissionConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }), timeoutMs: 2000 });
    const done = await waitFor(
      async () => {
        const r = await api("GET", `/api/v1/submissions/${id}`, { token: tokens["alice"] });
        return (r.body["targets"] as { status: string }[])[0]!.status === "submitted" ? r : null;
      },
      20_000,
      "lab-a target submitted",
    );
    expect(done.body).toMatchObject({ id, targets: [{ lab: "lab-a", status: "submitted", job_id: 41 }] });
    expect(posted["lab-a"]).toEqual(["alice"]);

    expect((await api("GET", `/api/v1/submissions/${id}`, { token: tokens["root"] })).status).toBe(200);
    const other = await api("GET", `/api/v1/submissions/${id}`, { token: tokens["bob"] });
    expect(other.status).toBe(404);
    expect((await api("GET", `/api/v1/submissions/${id}`)).status).toBe(401);
    expect((await callTrpc("submissions.get", { input: { id }, headers: { authorization: `Token ${tokens["bob"]}` } })).status).toBe(404);
    expect((await callTrpc("submissions.get", { input: { id } })).status).toBe(401);
  });

  it("a superuser may submit to every lab", async () => {
    const r = await api("POST", "/api/v1/submissions", {
      token: tokens["root"],
      body: { definition: DEFINITION, labs: ["lab-a", "lab-b"] },
    });
    expect(r.status).toBe(201);
    expect((r.body["targets"] as { lab: string }[]).map((t) => t.lab)).toEqual(["lab-a", "lab-b"]);
    await waitFor(async () => posted["lab-b"]!.length === 1, 20_000, "lab-b got the job");
    expect(posted["lab-b"]).toEqual(["root"]);
  });
});
