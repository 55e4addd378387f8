import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { findViewerByUsername, upsertInstances, type TViewer } from "@magma/db/frontend";
import { fakeLab, json, setupTestEnv, waitFor } from "./helpers.ts";

const DEFINITION = `job_name: smoke
device_type: qemu
visibility: public
timeouts:
  job: {minutes: 5}
actions:
- boot:
    method: qemu
    prompts: ["/ #"]
`;

/** A definition with secrets: the labs get it as is, the submission page shows it masked. */
const SECRET_DEFINITION = `${DEFINITION}secrets: {API_KEY: frontend-secret-123}
`;

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
const labs: Array<Awaited<ReturnType<typeof fakeLab>>> = [];
/** POSTs seen by each fake lab: idempotency keys, submitter headers, definitions, idempotency key → job id. */
const seen: Record<string, { keys: string[]; submitters: string[]; created: Map<string, number>; definitions: string[] }> = {};
let sam: TViewer;
let flakyFailures = 1;

const overview = (name: string, types: string[]) => ({
  name,
  version: "test",
  workers: [{ hostname: "w1", state: "Online", health: "Active", last_ping: null }],
  devices: [],
  device_types: types,
  queue: { submitted: 0, scheduled: 0, running: 0 },
});

async function startLab(name: string, types: string[], behaviour: "ok" | "reject" | "flaky") {
  seen[name] = { keys: [], submitters: [], created: new Map(), definitions: [] };
  const lab = await fakeLab((req, body, res) => {
    if (req.url === "/api/v0.2/magma/overview/") return json(res, 200, overview(name, types));
    if (req.method === "POST" && req.url === "/api/v0.2/jobs/") {
      if (req.headers["authorization"] !== `Token api-${name}`) return json(res, 401, { message: "bad token" });
      const key = String(req.headers["idempotency-key"]);
      seen[name]!.keys.push(key);
      seen[name]!.submitters.push(String(req.headers["x-magma-submitter"]));
      if (behaviour === "reject") return json(res, 400, { message: "Job invalid: device_type qemu is retired @ data['device_type']" });
      if (behaviour === "flaky" && flakyFailures-- > 0) return json(res, 503, { message: "database restarting" });
      const s = seen[name]!;
      if (!s.created.has(key)) s.created.set(key, 100 + s.created.size);
      const definition = JSON.parse(body).definition as string;
      s.definitions.push(definition);
      expect([DEFINITION, SECRET_DEFINITION]).toContain(definition);
      return json(res, 201, { message: "job submitted", job_ids: [s.created.get(key)] });
    }
    json(res, 404, { message: "not found" });
  });
  labs.push(lab);
  return { name, url: lab.url, api_token: `api-${name}`, callback_token: `cb-${name}-secret` };
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [
    await startLab("lab-a", ["qemu"], "ok"),
    await startLab("lab-b", ["qemu", "bbb"], "flaky"),
    await startLab("lab-c", ["qemu"], "reject"),
    await startLab("lab-d", ["bbb"], "ok"),
  ]);
  const { addUser } = await import("../src/server/services/accounts.ts");
  await addUser(db(), { username: "sam", superuser: true });
  sam = (await findViewerByUsername(db(), "sam"))!;
});

afterAll(async () => {
  await consumer?.close();
  for (const l of labs) await l.close();
  await envCtl?.cleanup();
});

describe("submissions", () => {
  it("refuses an invalid definition with its YAML path", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { db } = await import("../src/server/db.ts");
    await expect(
      createSubmission({
        db: db(),
        clientRequestId: "req-invalid-1",
        definition: "job_name: x\n",
        labs: ["lab-a"],
        viewer: sam,
        timeoutMs: 2000,
      }),
    ).rejects.toMatchObject({
      code: "INVALID_JOB_DEFINITION",
      message: expect.stringContaining("data['device_type']"),
    });
  });

  it("refuses a lab that lacks the device type, naming what it offers", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { db } = await import("../src/server/db.ts");
    await expect(
      createSubmission({
        db: db(),
        clientRequestId: "req-wrong-lab",
        definition: DEFINITION,
        labs: ["lab-d"],
        viewer: sam,
        timeoutMs: 2000,
      }),
    ).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: 'Lab "lab-d" has no device type "qemu" (it offers: bbb)',
    });
  });

  it("is idempotent on clientRequestId and fans out one lab job per target", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { getSubmission } = await import("../src/server/services/get-submission.ts");
    const { db } = await import("../src/server/db.ts");
    const input = {
      db: db(),
      clientRequestId: "req-double-click-1",
      definition: DEFINITION,
      labs: ["lab-a", "lab-b", "lab-c"],
      viewer: sam,
      timeoutMs: 2000,
    };
    const [first, second] = await Promise.all([createSubmission(input), createSubmission(input)]);
    const third = await createSubmission(input);
    expect(second.submission.id).toBe(first.submission.id);
    expect(third.submission.id).toBe(first.submission.id);
    expect([first.created, second.created].filter(Boolean)).toHaveLength(1);
    expect(third.created).toBe(false);
    expect(first.submission.targets.map((t) => t.lab)).toEqual(["lab-a", "lab-b", "lab-c"]);

    const { startSubmissionConsumer } = await import("../src/server/queues/submission-consumer.ts");
    consumer = startSubmissionConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }), timeoutMs: 2000 });
    const done = await waitFor(
      async () => {
        const s = await getSubmission({ db: db(), submissionId: first.submission.id, viewer: sam });
        return s.targets.every((t) => t.status !== "queued") ? s : null;
      },
      20_000,
      "all targets delivered",
    );
    const by = Object.fromEntries(done.targets.map((t) => [t.lab, t]));
    expect(by["lab-a"]).toMatchObject({ status: "submitted", remoteJobId: 100, jobUrl: "/jobs/lab-a/100", attempts: 1 });
    // lab-b answered 503 once: retried with backoff, same Idempotency-Key, one lab job
    expect(by["lab-b"]).toMatchObject({ status: "submitted", remoteJobId: 100, attempts: 2, error: null });
    expect(seen["lab-b"]!.keys).toEqual([`${first.submission.id}-lab-b`, `${first.submission.id}-lab-b`]);
    expect(seen["lab-b"]!.created.size).toBe(1);
    // lab-c rejected the job: failed with the lab's message, not retried
    expect(by["lab-c"]).toMatchObject({ status: "failed", remoteJobId: null, attempts: 1 });
    expect(by["lab-c"]!.error).toContain("device_type qemu is retired");
    expect(seen["lab-c"]!.keys).toHaveLength(1);
    expect(seen["lab-a"]!.keys).toEqual([`${first.submission.id}-lab-a`]);
    // every lab is told who really submitted
    expect(new Set([...seen["lab-a"]!.submitters, ...seen["lab-b"]!.submitters, ...seen["lab-c"]!.submitters])).toEqual(new Set(["sam"]));
  });

  it("shows a submission's definition with its secrets [MASKED], while the lab receives the real values", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { getSubmission } = await import("../src/server/services/get-submission.ts");
    const { db } = await import("../src/server/db.ts");
    const { submission } = await createSubmission({
      db: db(),
      clientRequestId: "req-secrets-1",
      definition: SECRET_DEFINITION,
      labs: ["lab-a"],
      viewer: sam,
      timeoutMs: 2000,
    });
    // the consumer started by the previous test delivers it
    const done = await waitFor(
      async () => {
        const s = await getSubmission({ db: db(), submissionId: submission.id, viewer: sam });
        return s.targets.every((t) => t.status !== "queued") ? s : null;
      },
      20_000,
      "the secret job delivered",
    );
    expect(done.targets[0]).toMatchObject({ status: "submitted" });
    expect(seen["lab-a"]!.definitions).toContain(SECRET_DEFINITION);
    expect(done.definition).not.toContain("frontend-secret-123");
    expect(done.definition).toContain('API_KEY: "[MASKED]"');
  });
});
