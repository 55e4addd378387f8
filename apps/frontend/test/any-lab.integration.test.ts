/**
 * `labs: "any"` placement and `retry: {infrastructure: N}` (issue #13 item 4) through the real
 * /api/v1 handlers, the submission consumer (BullMQ on Redis) and callback ingest, against fake labs
 * whose overview (idle devices, queue per device type) the test controls.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { upsertInstances, type FrontendDb } from "@magma/db/frontend";
import { fakeLab, json, notifyPayload, setupTestEnv, waitFor } from "./helpers.ts";

const DEFINITION = `job_name: anywhere
device_type: qemu
visibility: public
timeouts:
  job: {minutes: 5}
actions:
- boot:
    method: qemu
    prompts: ["/ #"]
`;

interface LabState {
  types: string[];
  idle: number;
  queue: number;
  /** jobs created: idempotency key → job id */
  created: Map<string, number>;
  /** the lab vanished: every request answers 503 */
  down: boolean;
}

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
const servers: Array<{ close(): Promise<void> }> = [];
const state: Record<string, LabState> = {};
const tokens: Record<string, string> = {};
let db: () => FrontendDb;

async function startLab(name: string, types: string[], idle: number, queue: number, firstJobId: number) {
  const s: LabState = { types, idle, queue, created: new Map(), down: false };
  state[name] = s;
  const lab = await fakeLab((req, _body, res) => {
    if (s.down) return json(res, 503, { message: "gone" });
    if (req.url?.startsWith("/api/v0.2/magma/finished-jobs/")) return json(res, 200, { results: [], next: null });
    if (req.url === "/api/v0.2/magma/overview/") {
      return json(res, 200, {
        name,
        version: "test",
        workers: [{ hostname: "w1", state: "Online", health: "Active", last_ping: null }],
        devices: [
          ...Array.from({ length: s.idle }, (_, i) => ({
            hostname: `${name}-idle-${i}`,
            device_type: s.types[0],
            state: "Idle",
            health: "Good",
            worker_host: "w1",
            current_job: null,
          })),
          { hostname: `${name}-busy`, device_type: s.types[0], state: "Running", health: "Good", worker_host: "w1", current_job: 1 },
          { hostname: `${name}-bad`, device_type: s.types[0], state: "Idle", health: "Bad", worker_host: "w1", current_job: null },
        ],
        device_types: s.types,
        queue: { submitted: 100, scheduled: 0, running: 1 },
        queue_by_device_type: Object.fromEntries(s.types.map((t) => [t, s.queue])),
      });
    }
    if (req.method === "POST" && req.url === "/api/v0.2/jobs/") {
      const key = String(req.headers["idempotency-key"]);
      if (!s.created.has(key)) s.created.set(key, firstJobId + s.created.size);
      return json(res, 201, { message: "job submitted", job_ids: [s.created.get(key)] });
    }
    json(res, 404, { message: "not found" });
  });
  servers.push(lab);
  return { name, url: lab.url, api_token: `api-${name}`, callback_token: `cb-${name}-secret` };
}

const api = async (method: "POST" | "GET", path: string, opts: { token?: string; body?: unknown } = {}) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.token) headers["authorization"] = `Token ${opts.token}`;
  const url = `http://127.0.0.1:3000${path}`;
  let res: Response;
  if (method === "POST") {
    const { POST } = await import("../src/app/api/v1/submissions/route.ts");
    res = await POST(new Request(url, { method, headers, body: JSON.stringify(opts.body) }));
  } else {
    const { GET } = await import("../src/app/api/v1/submissions/[id]/route.ts");
    const id = path.split("/").pop()!;
    res = await GET(new Request(url, { headers }), { params: Promise.resolve({ id }) });
  }
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

type ApiTarget = {
  lab: string;
  status: string;
  job_id: number | null;
  error: string | null;
  attempts: Array<{ lab: string; job_id: number | null; state: string | null; health: string | null; error_type: string | null }>;
};
const targetsOf = (body: Record<string, unknown>) => body["targets"] as ApiTarget[];

/** Feeds one lab callback through the real ingest (as the callback consumer does). */
async function labReports(lab: string, id: number, health: "Complete" | "Incomplete", errorType: string | null) {
  const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");
  const payload = notifyPayload(
    {
      id,
      health: health === "Complete" ? 1 : 2,
      health_string: health,
      status_string: health.toLowerCase(),
      description: "anywhere",
      magma: { instance: lab, device_type: "qemu", error_type: errorType, health_check: false },
    },
    1,
  );
  return ingestCallback({
    db: db(),
    job: { instance: lab, receivedAt: new Date().toISOString(), payload },
    log: pino({ level: "silent" }),
  });
}

async function waitSubmitted(id: string, token: string, what: string) {
  return waitFor(
    async () => {
      const r = await api("GET", `/api/v1/submissions/${id}`, { token });
      return targetsOf(r.body).every((t) => t.status === "submitted") ? r.body : null;
    },
    20_000,
    what,
  );
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  db = (await import("../src/server/db.ts")).db;
  await upsertInstances(db(), [
    await startLab("lab-a", ["qemu"], 0, 3, 100),
    await startLab("lab-b", ["qemu"], 1, 5, 200),
    await startLab("lab-c", ["qemu"], 0, 1, 300),
    await startLab("lab-d", ["bbb"], 4, 0, 400),
    await startLab("lab-e", ["qemu"], 3, 0, 500),
  ]);
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const run = async (...a: string[]) => {
    const out: string[] = [];
    await runUsersCli(a, (l) => out.push(l));
    return out;
  };
  await run("groups", "add", "team-a");
  // lab-e (3 idle devices) is not granted to team-a: "any" must never pick it for alice
  for (const lab of ["lab-a", "lab-b", "lab-c", "lab-d"]) await run("groups", "grant", "team-a", lab);
  await run("add", "alice", "--group", "team-a");
  await run("add", "nobody");
  for (const u of ["alice", "nobody"]) tokens[u] = (await run("tokens", "create", u))[0]!;
  const { startSubmissionConsumer } = await import("../src/server/queues/submission-consumer.ts");
  consumer = startSubmissionConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }), timeoutMs: 2000 });
});

afterAll(async () => {
  await consumer?.close();
  for (const s of servers) await s.close();
  await envCtl?.cleanup();
});

describe('labs: "any"', () => {
  it("places the job on a lab the user may use with an idle device of the type, first", async () => {
    const r = await api("POST", "/api/v1/submissions", { token: tokens["alice"], body: { definition: DEFINITION, labs: "any" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ labs: "any", retry: { infrastructure: 0 } });
    expect(targetsOf(r.body)).toMatchObject([{ lab: "lab-b", status: "queued", attempts: [{ lab: "lab-b", job_id: null }] }]);
    const done = await waitSubmitted(r.body["id"] as string, tokens["alice"]!, "the any-lab job delivered");
    expect(targetsOf(done)).toMatchObject([{ lab: "lab-b", status: "submitted", job_id: 200, attempts: [{ lab: "lab-b", job_id: 200 }] }]);
  });

  it("without an idle device anywhere, picks the shortest queue for the device type", async () => {
    state["lab-b"]!.idle = 0;
    const r = await api("POST", "/api/v1/submissions", { token: tokens["alice"], body: { definition: DEFINITION, labs: "any" } });
    expect(r.status).toBe(201);
    // lab-c: queue 1 < lab-a: 3 < lab-b: 5 (the labs' whole queues, 100, are not what counts)
    expect(targetsOf(r.body)[0]!.lab).toBe("lab-c");
    state["lab-b"]!.idle = 1;
  });

  it("refuses with every lab named when no lab the user may use offers the type, and a user with no lab", async () => {
    const bbb = DEFINITION.replace("device_type: qemu", "device_type: rpi4");
    const r = await api("POST", "/api/v1/submissions", { token: tokens["alice"], body: { definition: bbb, labs: "any" } });
    expect(r.status).toBe(400);
    expect(r.body["message"]).toBe(
      'labs "any": no lab you may use offers device type "rpi4" now (lab-a: no device type "rpi4"; lab-b: no device type "rpi4"; lab-c: no device type "rpi4"; lab-d: no device type "rpi4")',
    );
    const none = await api("POST", "/api/v1/submissions", { token: tokens["nobody"], body: { definition: DEFINITION, labs: "any" } });
    expect(none.status).toBe(403);
    const bad = await api("POST", "/api/v1/submissions", {
      token: tokens["alice"],
      body: { definition: DEFINITION, labs: "anywhere", retry: { infrastructure: -1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body["message"]).toBe('labs: must be "any" or a list of lab names; retry.infrastructure: must be 0 or more');
  });
});

describe("device-type availability", () => {
  it("rolls idle/busy/bad devices and queue depth up per device type across labs (GET /api/v1/device-types)", async () => {
    const { GET } = await import("../src/app/api/v1/device-types/route.ts");
    const res = await GET(new Request("http://127.0.0.1:3000/api/v1/device-types"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<Record<string, unknown>>; unreachable: string[] };
    expect(body.unreachable).toEqual([]);
    expect(body.results.map((r) => r["device_type"])).toEqual(["bbb", "qemu"]);
    expect(body.results[1]).toEqual({
      device_type: "qemu",
      idle: 4,
      busy: 4,
      bad: 4,
      queue: 9,
      labs: [
        { lab: "lab-a", idle: 0, busy: 1, bad: 1, queue: 3 },
        { lab: "lab-b", idle: 1, busy: 1, bad: 1, queue: 5 },
        { lab: "lab-c", idle: 0, busy: 1, bad: 1, queue: 1 },
        { lab: "lab-e", idle: 3, busy: 1, bad: 1, queue: 0 },
      ],
    });
  });
});

describe("retry: {infrastructure: N}", () => {
  it("moves a job that failed with Infrastructure to another eligible lab, once per failure, and lists every attempt", async () => {
    const r = await api("POST", "/api/v1/submissions", {
      token: tokens["alice"],
      body: { definition: DEFINITION, labs: "any", retry: { infrastructure: 1 } },
    });
    expect(r.status).toBe(201);
    const id = r.body["id"] as string;
    const first = await waitSubmitted(id, tokens["alice"]!, "first attempt delivered");
    const t1 = targetsOf(first)[0]!;
    expect(t1.lab).toBe("lab-b");

    // lab-b's device fails to power on: Incomplete, Infrastructure
    const ingest = await labReports("lab-b", t1.job_id!, "Incomplete", "Infrastructure");
    expect(ingest.retry).toBe("moved");
    // the same callback again (redelivery): nothing moves twice
    expect((await labReports("lab-b", t1.job_id!, "Incomplete", "Infrastructure")).retry).toBe("not-retryable");

    const second = await waitSubmitted(id, tokens["alice"]!, "second attempt delivered");
    const t2 = targetsOf(second)[0]!;
    // lab-b is never chosen again; lab-c has the shortest queue of the rest
    expect(t2).toMatchObject({ lab: "lab-c", status: "submitted" });
    expect(t2.attempts).toEqual([
      { lab: "lab-b", job_id: t1.job_id, state: "Finished", health: "Incomplete", error_type: "Infrastructure" },
      { lab: "lab-c", job_id: t2.job_id, state: null, health: null, error_type: null },
    ]);

    await labReports("lab-c", t2.job_id!, "Complete", null);
    const done = await api("GET", `/api/v1/submissions/${id}`, { token: tokens["alice"] });
    expect(targetsOf(done.body)[0]!.attempts.map((a) => [a.lab, a.health])).toEqual([
      ["lab-b", "Incomplete"],
      ["lab-c", "Complete"],
    ]);
  });

  it("never retries a job error or test failure, and stops after N retries", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { findViewerByUsername } = await import("@magma/db/frontend");
    const alice = (await findViewerByUsername(db(), "alice"))!;
    const { submission } = await createSubmission({
      db: db(),
      clientRequestId: "retry-job-error-1",
      definition: DEFINITION,
      labs: ["lab-a"],
      retry: { infrastructure: 1 },
      viewer: alice,
      timeoutMs: 2000,
    });
    const s1 = await waitSubmitted(submission.id, tokens["alice"]!, "lab-a target delivered");
    const jobId = targetsOf(s1)[0]!.job_id!;
    expect((await labReports("lab-a", jobId, "Incomplete", "Job")).retry).toBe("not-retryable");
    expect((await labReports("lab-a", jobId, "Complete", null)).retry).toBe("not-retryable");
    const after = await api("GET", `/api/v1/submissions/${submission.id}`, { token: tokens["alice"] });
    expect(targetsOf(after.body)[0]!.attempts).toHaveLength(1);

    // a second Infrastructure failure after the one retry: exhausted, noted on the target
    const { submission: s2 } = await createSubmission({
      db: db(),
      clientRequestId: "retry-exhausted-1",
      definition: DEFINITION,
      labs: ["lab-a"],
      retry: { infrastructure: 1 },
      viewer: alice,
      timeoutMs: 2000,
    });
    const j1 = targetsOf(await waitSubmitted(s2.id, tokens["alice"]!, "first"))[0]!.job_id!;
    expect((await labReports("lab-a", j1, "Incomplete", "Infrastructure")).retry).toBe("moved");
    const moved = targetsOf(await waitSubmitted(s2.id, tokens["alice"]!, "second"))[0]!;
    expect(moved.lab).toBe("lab-b");
    expect((await labReports("lab-b", moved.job_id!, "Incomplete", "Infrastructure")).retry).toBe("exhausted");
    const end = targetsOf((await api("GET", `/api/v1/submissions/${s2.id}`, { token: tokens["alice"] })).body)[0]!;
    expect(end.error).toBe("Infrastructure failure; retries exhausted (1)");
    expect(end.attempts.map((a) => [a.lab, a.error_type])).toEqual([
      ["lab-a", "Infrastructure"],
      ["lab-b", "Infrastructure"],
    ]);
  });

  it("moves an unfinished job off a lab that vanished for longer than the set time", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { findViewerByUsername } = await import("@magma/db/frontend");
    const alice = (await findViewerByUsername(db(), "alice"))!;
    const { submission } = await createSubmission({
      db: db(),
      clientRequestId: "retry-vanished-1",
      definition: DEFINITION,
      labs: ["lab-c"],
      retry: { infrastructure: 1 },
      viewer: alice,
      timeoutMs: 2000,
    });
    const stranded = targetsOf(await waitSubmitted(submission.id, tokens["alice"]!, "lab-c target delivered"))[0]!;
    state["lab-c"]!.down = true;
    const { startReconciler } = await import("../src/server/queues/reconciler.ts");
    const reconciler = startReconciler({ db: db(), log: pino({ level: "silent" }), intervalMs: 3_600_000, timeoutMs: 2000, vanishedMs: 1 });
    try {
      // the first failed pass starts the outage clock; a later one finds it past vanishedMs
      const moved = await waitFor(
        async () => {
          const r = await reconciler.runOnce();
          expect(r.find((x) => x.lab === "lab-c")?.error).toContain("503");
          const t = targetsOf((await api("GET", `/api/v1/submissions/${submission.id}`, { token: tokens["alice"] })).body)[0]!;
          return t.attempts.length === 2 ? t : null;
        },
        20_000,
        "the stranded job moved",
      );
      expect(moved.lab).toBe("lab-b");
      expect(moved.attempts.map((a) => a.lab)).toEqual(["lab-c", "lab-b"]);
      const done = targetsOf(await waitSubmitted(submission.id, tokens["alice"]!, "moved target delivered"))[0]!;
      expect(done).toMatchObject({ lab: "lab-b", status: "submitted" });
      expect(done.attempts.map((a) => [a.lab, a.job_id])).toEqual([
        ["lab-c", stranded.job_id],
        ["lab-b", done.job_id],
      ]);
    } finally {
      await reconciler.close();
      state["lab-c"]!.down = false;
    }
  });
});
