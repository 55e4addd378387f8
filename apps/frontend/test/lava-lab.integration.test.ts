import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { parse } from "yaml";
import { findViewerByUsername, getFederatedJob, getReconcileCursor, type TInstanceRecord, type TViewer } from "@magma/db/frontend";
import { fakeLab, json, setupTestEnv, waitFor } from "./helpers.ts";

/**
 * A lab of kind `lava` federated end to end against a LAVA-API stand-in: a small real HTTP server
 * answering LAVA 2023.01's REST API v0.2 with payloads recorded from a real LAVA server
 * (test/fixtures/lava/, see its README), and calling the frontend back the way LAVA does
 * (the recorded callback body, the token secret in the header the notify block names).
 */

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "lava");
const fixture = (name: string) => readFile(path.join(FIXTURES, name), "utf8");

const API_TOKEN = "lava-api-token-0123456789";
/** The recorded callback's token secret: the frontend's LAVA user's token named `magma-callback`. */
const CALLBACK_SECRET = "anchortoken0123456789abcdefghijklmnop";
/** The stand-in's tokens of its user `admin`, by name (LAVA's get_token_from_description). */
const LAVA_TOKENS: Record<string, string> = { "magma-callback": CALLBACK_SECRET, anchor: "another-secret-of-admin" };

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lava: Awaited<ReturnType<typeof fakeLab>>;
let frontend: { url: string; server: Server };
const consumers: Array<{ close(): Promise<void> }> = [];
let configDir: string;
let lab: TInstanceRecord;
let sam: TViewer;
const log = pino({ level: "silent" });

/** What the stand-in saw and holds. */
const seen = { submissions: [] as Array<{ authorization: string | undefined; definition: string }>, requests: [] as string[] };
/** The stand-in's jobs (REST shape), by id. */
const jobs = new Map<number, Record<string, unknown>>();
let nextJobId = 4;
let loseNextAnswer = true;
const F: Record<string, string> = {};

const db = async () => (await import("../src/server/db.ts")).db();

/** Microsecond-exact comparison of LAVA's ISO times (as Django compares DateTimeFields). */
const micros = (iso: string) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso)!;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? "").padEnd(6, "0").slice(0, 6));
};

/** LAVA's REST API v0.2 as far as the frontend uses it, answering with the recorded payloads. */
async function startLavaStandIn() {
  return fakeLab((req, body, res) => {
    const u = new URL(req.url ?? "/", "http://lava");
    seen.requests.push(`${req.method} ${u.pathname}${u.search}`);
    if (req.headers.authorization !== `Token ${API_TOKEN}`) return json(res, 403, { detail: "Invalid token." });
    const p = u.pathname;
    if (p === "/api/v0.2/system/version/") return json(res, 200, JSON.parse(F["system-version.json"]!));
    if (p === "/api/v0.2/devices/") return json(res, 200, JSON.parse(F["devices.json"]!));
    if (p === "/api/v0.2/workers/") return json(res, 200, JSON.parse(F["workers.json"]!));
    if (p === "/api/v0.2/jobs/" && req.method === "POST") {
      const definition = (JSON.parse(body) as { definition: string }).definition;
      seen.submissions.push({ authorization: req.headers.authorization, definition });
      const id = nextJobId++;
      jobs.set(id, { ...JSON.parse(F["job-3.json"]!), id, state: "Submitted", health: "Unknown", end_time: null, definition });
      // the first submission's answer is lost (the job exists on LAVA all the same)
      if (loseNextAnswer) {
        loseNextAnswer = false;
        return json(res, 502, { detail: "Bad gateway" });
      }
      const recorded = JSON.parse(F["post-jobs.json"]!) as { message: string };
      return json(res, 201, { ...recorded, job_ids: [id] });
    }
    if (p === "/api/v0.2/jobs/" && req.method === "GET") {
      const q = u.searchParams;
      let list = [...jobs.values()];
      if (q.get("state")) list = list.filter((j) => j["state"] === q.get("state"));
      const contains = q.get("definition__contains");
      if (contains) list = list.filter((j) => String(j["definition"]).includes(contains));
      const gt = q.get("end_time__gt");
      if (gt) list = list.filter((j) => typeof j["end_time"] === "string" && micros(j["end_time"]) > micros(gt));
      if (q.get("ordering") === "end_time,id")
        list.sort((a, b) => micros(String(a["end_time"])) - micros(String(b["end_time"])) || Number(a["id"]) - Number(b["id"]));
      const limit = Number(q.get("limit") ?? 50);
      const offset = Number(q.get("offset") ?? 0);
      const page = list.slice(offset, offset + limit);
      const more = offset + limit < list.length;
      return json(res, 200, {
        count: list.length,
        next: more ? `http://lava/api/v0.2/jobs/?offset=${offset + limit}` : null,
        previous: null,
        results: page,
      });
    }
    let m = /^\/api\/v0\.2\/jobs\/(\d+)\/$/.exec(p);
    if (m && jobs.has(Number(m[1]))) return json(res, 200, jobs.get(Number(m[1])));
    m = /^\/api\/v0\.2\/jobs\/(\d+)\/yaml\/$/.exec(p);
    if (m) {
      res.writeHead(200, { "content-type": "application/yaml" });
      return res.end(Number(m[1]) === 3 ? F["job-3-results.yaml"] : "[]\n");
    }
    m = /^\/api\/v0\.2\/jobs\/(\d+)\/logs\/$/.exec(p);
    if (m && Number(m[1]) === 3) {
      const lines = F["job-3-logs-0-15.yaml"]!.split("\n").filter(Boolean);
      const start = Number(u.searchParams.get("start") ?? 0);
      const end = Math.min(Number(u.searchParams.get("end") ?? lines.length), lines.length);
      // LAVA: an empty range is a 404
      if (start >= end) return json(res, 404, { detail: "Not found." });
      res.writeHead(200, { "content-type": "application/yaml" });
      return res.end(lines.slice(start, end).join("\n") + "\n");
    }
    return json(res, 404, { detail: "Not found." });
  });
}

/**
 * What LAVA does when job `id` finishes: for each notify callback of the stored definition that
 * POSTs JSON to the frontend, one request with the recorded payload cut to the callback's dataset
 * (`results`: no `log`, as TestJob.create_job_data(output=False)) and `<header>: <token secret>`.
 */
async function lavaFinishes(id: number, payloadFixture: string): Promise<number[]> {
  const def = parse(String(jobs.get(id)!["definition"])) as { notify: { callbacks: Array<Record<string, string>> } };
  const statuses: number[] = [];
  const recorded = JSON.parse(F[payloadFixture]!) as Record<string, unknown>;
  for (const cb of def.notify.callbacks) {
    if (!cb["url"]!.startsWith(frontend.url)) continue; // the user's own receivers are not running here
    const token = LAVA_TOKENS[cb["token"]!] ?? cb["token"]!;
    const res = await fetch(cb["url"]!, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "python-requests/2.28.1", [cb["header"] ?? "Authorization"]: token },
      body: cb["dataset"] === "all" ? F[payloadFixture] : JSON.stringify({ ...recorded, log: undefined }),
    });
    statuses.push(res.status);
  }
  return statuses;
}

beforeAll(async () => {
  for (const f of [
    "system-version.json",
    "devices.json",
    "workers.json",
    "job-3.json",
    "jobs-finished.json",
    "post-jobs.json",
    "job-3-results.yaml",
    "job-3-logs-0-15.yaml",
    "job-4-definition.yaml",
    "callback-job-4-finished-all.json",
    "callback-job-2345-running.json",
  ])
    F[f] = await fixture(f);
  envCtl = await setupTestEnv();
  lava = await startLavaStandIn();
  // the frontend's callback route behind a real HTTP server, as `next start` serves it
  const route = await import("../src/app/api/callbacks/[lab]/route.ts");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const labName = decodeURIComponent(/^\/api\/callbacks\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "");
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      void route
        .POST(new Request(`http://frontend${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) }), {
          params: Promise.resolve({ lab: labName }),
        })
        .then(async (r) => {
          res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
          res.end(Buffer.from(await r.arrayBuffer()));
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  frontend = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  process.env["MAGMA_FRONTEND_PUBLIC_URL"] = frontend.url;

  // the lab comes from the YAML lab file, kind: lava
  configDir = await mkdtemp(path.join(tmpdir(), "magma-lava-lab-"));
  const configPath = path.join(configDir, "labs.yaml");
  await writeFile(
    configPath,
    [
      "- name: lava-lab",
      "  kind: lava",
      `  url: ${lava.url}`,
      `  api_token: ${API_TOKEN}`,
      `  callback_token: ${CALLBACK_SECRET}`,
      "  callback_token_name: magma-callback",
    ].join("\n"),
  );
  const { syncInstances } = await import("../src/server/services/sync-instances.ts");
  lab = (await syncInstances({ db: await db(), configPath }))[0]!;
  const { addUser } = await import("../src/server/services/accounts.ts");
  await addUser(await db(), { username: "sam", superuser: true });
  sam = (await findViewerByUsername(await db(), "sam"))!;
});

afterAll(async () => {
  for (const c of consumers) await c.close();
  await new Promise<void>((r) => (frontend ? frontend.server.close(() => r()) : r()));
  await lava?.close();
  if (configDir) await rm(configDir, { recursive: true, force: true });
  await envCtl?.cleanup();
});

describe("a LAVA lab (kind: lava) federated through LAVA's own API", () => {
  it("is configured from the YAML lab file with its kind and callback token name", () => {
    expect(lab).toMatchObject({ name: "lava-lab", kind: "lava", url: lava.url, callbackTokenName: "magma-callback", callbackSecret: null });
  });

  it("shows LAVA's devices, workers and queue on the labs page (not as unreachable)", async () => {
    const { getLabsOverview } = await import("../src/server/services/get-labs-overview.ts");
    const [o] = await getLabsOverview({ db: await db(), timeoutMs: 2000 });
    expect(o).toMatchObject({
      name: "lava-lab",
      kind: "lava",
      reachable: true,
      error: null,
      version: "LAVA 2023.01",
      workers: { online: 1, total: 2 },
      devices: { total: 1, byHealth: { Good: 1 } },
      deviceTypes: ["qemu"],
      queue: { submitted: 0, scheduled: 0, running: 0 },
    });
    expect(o!.deviceList).toEqual([
      {
        hostname: "qemu-01",
        device_type: "qemu",
        state: expect.any(String),
        health: "Good",
        worker_host: "anchor-worker",
        current_job: null,
      },
    ]);
  });

  it("submits through POST /api/v0.2/jobs/ with the frontend's callback added and the user's notify kept, once across a lost answer", async () => {
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const { getSubmission } = await import("../src/server/services/get-submission.ts");
    const { startSubmissionConsumer } = await import("../src/server/queues/submission-consumer.ts");
    const definition = F["job-4-definition.yaml"]!;
    const { submission } = await createSubmission({
      db: await db(),
      clientRequestId: "lava-req-1",
      definition,
      labs: ["lava-lab"],
      viewer: sam,
      timeoutMs: 2000,
    });
    consumers.push(startSubmissionConsumer({ db: await db(), prefix: envCtl.prefix, log, timeoutMs: 2000 }));
    const done = await waitFor(
      async () => {
        const s = await getSubmission({ db: await db(), submissionId: submission.id, viewer: sam });
        return s.targets.every((t) => t.status !== "queued") ? s : null;
      },
      20_000,
      "the LAVA target delivered",
    );
    // the retry found the job its first, unanswered attempt created: one LAVA job, not two
    expect(done.targets[0]).toMatchObject({ lab: "lava-lab", status: "submitted", remoteJobId: 4, attempts: 2 });
    expect(seen.submissions).toHaveLength(1);
    expect(seen.requests.filter((r) => r.includes("definition__contains=submission"))).toHaveLength(2);
    const sent = seen.submissions[0]!;
    expect(sent.authorization).toBe(`Token ${API_TOKEN}`);
    // the user's comments and keys are kept; notify gains one callback, addressed to the frontend
    expect(sent.definition).toContain("# Boot + one inline test, with four notify callbacks fired when the job finishes.");
    const before = parse(definition) as Record<string, unknown>;
    const after = parse(sent.definition) as Record<string, unknown> & {
      notify: { criteria: unknown; verbosity: string; callbacks: Array<Record<string, string>> };
    };
    const { notify: _a, ...restBefore } = before;
    const { notify: _b, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
    expect(after.notify.criteria).toEqual({ status: "finished" });
    expect(after.notify.verbosity).toBe("verbose");
    expect(after.notify.callbacks).toHaveLength(5);
    expect(after.notify.callbacks.slice(0, 4)).toEqual((before["notify"] as { callbacks: unknown[] }).callbacks);
    expect(after.notify.callbacks[4]).toEqual({
      url: `${frontend.url}/api/callbacks/lava-lab?submission=${submission.id}-lava-lab`,
      method: "POST",
      token: "magma-callback",
      dataset: "results",
      "content-type": "json",
    });
    // the secret itself never appears in the definition LAVA stores
    expect(sent.definition).not.toContain(CALLBACK_SECRET);
  });

  it("adds a notify block to a definition without one", async () => {
    const { addFrontendNotify } = await import("../src/server/services/lava-notify.ts");
    const plain = "device_type: qemu\njob_name: plain\n";
    const out = parse(addFrontendNotify(plain, { url: "https://magma.example/api/callbacks/l", tokenName: "t" }));
    expect(out).toEqual({
      device_type: "qemu",
      job_name: "plain",
      notify: {
        criteria: { status: "finished" },
        callbacks: [
          { url: "https://magma.example/api/callbacks/l", method: "POST", token: "t", dataset: "results", "content-type": "json" },
        ],
      },
    });
    const legacy = "device_type: qemu\nnotify:\n  criteria: {status: complete}\n  callback: {url: 'http://squad/x', method: POST}\n";
    const merged = parse(addFrontendNotify(legacy, { url: "https://m/api/callbacks/l", tokenName: "t" })) as {
      notify: { criteria: unknown; callbacks: Array<{ url: string }>; callback?: unknown };
    };
    expect(merged.notify.criteria).toEqual({ status: "complete" });
    expect(merged.notify.callback).toBeUndefined();
    expect(merged.notify.callbacks.map((c) => c.url)).toEqual(["http://squad/x", "https://m/api/callbacks/l"]);
    expect(() => addFrontendNotify("device_type: qemu\nnotify: {callbacks: [{method: POST}]}\n", { url: "u", tokenName: "t" })).toThrow(
      /notify\.callbacks\.0\.url/,
    );
  });

  it("ingests LAVA's own callback (recorded payload, token secret in the header, no signature)", async () => {
    const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
    consumers.push(startCallbackConsumer({ db: await db(), prefix: envCtl.prefix, log }));
    expect(await lavaFinishes(4, "callback-job-4-finished-all.json")).toEqual([202]);
    const job = await waitFor(async () => getFederatedJob(await db(), null, "lava-lab", 4), 15_000, "job 4 ingested");
    // LAVA names its own user ("admin"); the job is the frontend user's who submitted it
    expect(job).toMatchObject({ state: "Finished", health: "Complete", deviceType: "qemu", submitter: "sam", actualDevice: "qemu-01" });
    // LAVA 2023.01 sends end_time "None": the receipt time stands in
    expect(job.endTime).not.toBeNull();
    const bySuite = Object.fromEntries(job.suites.map((s) => [s.name, s.cases.length]));
    expect(bySuite).toEqual({ lava: 12, "0_cb": 3 });
    const cb = job.suites.find((s) => s.name === "0_cb")!;
    expect(cb.counts).toEqual({ pass: 2, fail: 1, skip: 0, unknown: 0 });
    expect(cb.cases.find((c) => c.name === "cb-measure")).toMatchObject({ measurement: "3", units: "items" });
  });

  it("refuses a callback with a wrong token or none (LAVA labs do not sign)", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${frontend.url}/api/callbacks/lava-lab`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: F["callback-job-2345-running.json"],
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: LAVA_TOKENS["anchor"]! })).status).toBe(403);
    // the same payload with the right secret is a Running job
    expect((await post({ authorization: CALLBACK_SECRET })).status).toBe(202);
    const running = await waitFor(async () => getFederatedJob(await db(), null, "lava-lab", 2345), 15_000, "job 2345 ingested");
    expect(running).toMatchObject({ state: "Running", health: "Unknown" });
  });

  it("reconciles by polling LAVA's finished jobs list: repairs what the callbacks missed, leaves the rest", async () => {
    // LAVA holds two finished jobs no callback told the frontend about (3 with 23 results, 2143 without)
    jobs.set(3, JSON.parse(F["job-3.json"]!));
    const j2143 = (JSON.parse(F["jobs-finished.json"]!) as { results: Array<Record<string, unknown>> }).results[0]!;
    jobs.set(2143, j2143);
    jobs.set(4, { ...jobs.get(4)!, state: "Finished", health: "Complete", end_time: "2026-11-23T06:57:10.394801Z" });
    const { reconcileInstance } = await import("../src/server/services/reconcile-instance.ts");
    seen.requests.length = 0;
    const r = await reconcileInstance({ db: await db(), lab: { ...lab, url: lab.url! }, log, timeoutMs: 2000, pageSize: 2 });
    expect(r).toEqual({ lab: "lava-lab", checked: 3, repaired: 2, error: null });
    expect(seen.requests.filter((q) => q.startsWith("GET /api/v0.2/jobs/?"))[0]).toBe(
      "GET /api/v0.2/jobs/?state=Finished&ordering=end_time%2Cid&limit=2",
    );
    // job 4 came by callback and is complete: not fetched again
    expect(seen.requests.filter((q) => /jobs\/\d+\/(yaml\/)?$/.test(q)).sort()).toEqual([
      "GET /api/v0.2/jobs/2143/",
      "GET /api/v0.2/jobs/2143/yaml/",
      "GET /api/v0.2/jobs/3/",
      "GET /api/v0.2/jobs/3/yaml/",
    ]);
    const j3 = await getFederatedJob(await db(), null, "lava-lab", 3);
    expect(j3).toMatchObject({
      state: "Finished",
      health: "Complete",
      name: "anchor qemu inline tests",
      endTime: "2026-11-23T06:55:54.800Z",
    });
    expect(j3!.suites.flatMap((s) => s.cases)).toHaveLength(23);
    expect(j3!.metadata).toEqual({ "kernel.version": "6.1.0-56-amd64", source: "anchor" });
    // a job submitted on the LAVA lab directly keeps LAVA's submitter
    expect(await getFederatedJob(await db(), null, "lava-lab", 2143)).toMatchObject({ state: "Finished", submitter: "admin" });
    expect(await getReconcileCursor(await db(), lab.id)).toEqual({ endTime: "2026-11-23T07:18:23.295262Z", jobId: 2143 });

    // a second pass re-reads only the overlap window and repairs nothing
    seen.requests.length = 0;
    const again = await reconcileInstance({ db: await db(), lab: { ...lab, url: lab.url! }, log, timeoutMs: 2000 });
    expect(again).toEqual({ lab: "lava-lab", checked: 1, repaired: 0, error: null });
    expect(seen.requests).toEqual([
      "GET /api/v0.2/jobs/?state=Finished&ordering=end_time%2Cid&limit=200&end_time__gt=2026-11-23T07%3A16%3A23.294Z",
    ]);
  });

  it("reads a job's log from LAVA's jobs/<id>/logs/ (404 past the end means no more lines)", async () => {
    const { getJobLog } = await import("../src/server/services/get-job-log.ts");
    const first = await getJobLog({ db: await db(), lab: "lava-lab", jobId: 3, start: 0, timeoutMs: 2000, viewer: null });
    expect(first.lines).toHaveLength(15);
    expect(first.lines[0]).toEqual({
      line: 0,
      dt: "2026-11-23T06:55:15.451656",
      lvl: "info",
      msg: "lava-dispatcher, installed at version: 2023.01",
    });
    expect(first.lines[7]).toMatchObject({ line: 7, lvl: "results", msg: { case: "validate", definition: "lava", result: "pass" } });
    expect(first.nextStart).toBe(15);
    const rest = await getJobLog({ db: await db(), lab: "lava-lab", jobId: 3, start: 15, timeoutMs: 2000, viewer: null });
    expect(rest).toEqual({ lines: [], nextStart: 15 });
  });
});
