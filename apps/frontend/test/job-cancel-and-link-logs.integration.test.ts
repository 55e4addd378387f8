/**
 * Job cancel from the frontend (REST `POST /api/v1/jobs/<lab>/<id>/cancel` and tRPC `jobs.cancel`)
 * on every lab kind, and the log chunks an outbound-only lab pushes over its link, through the real
 * route handlers on a real database: who may cancel (anonymous 401, another user 403, the submitter
 * and superusers yes), a Magma lab told with its REST cancel acting as the submitter, a LAVA lab
 * with LAVA's REST cancel, an outbound lab's cancel re-sent on every poll until acknowledged; pushed
 * log lines stored exactly once by line index (duplicates, overlaps and gaps) and served by the job
 * log and the live log stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { upsertInstances } from "@magma/db/frontend";
import type { TLabLogPushResponse, TLabWork, TLogLine } from "@magma/protocol";
import { callTrpc, fakeLab, json, notifyPayload, setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
const labs: Array<Awaited<ReturnType<typeof fakeLab>>> = [];
const tokens: Record<string, string> = {};
/** `METHOD path submitter` of every cancel request the fake labs received. */
const cancels: string[] = [];
let credential = "";

const RUNNING = { state: 2, state_string: "Running", health: 0, health_string: "Unknown", end_time: "None", results: {} } as const;

async function startLab() {
  const lab = await fakeLab((req, _body, res) => {
    if (/\/jobs\/\d+\/cancel\/$/.test(req.url ?? "")) {
      cancels.push(`${req.method} ${req.url} ${String(req.headers["x-magma-submitter"] ?? "-")}`);
      return json(res, 200, { message: "Job cancel signal sent." });
    }
    json(res, 404, { message: "not found" });
  });
  labs.push(lab);
  return lab.url;
}

/** Stores a callback of job `id` of `lab` as the callback consumer would. */
async function ingest(lab: string, id: number, over: Record<string, unknown> = {}) {
  const { db } = await import("../src/server/db.ts");
  const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");
  const payload = notifyPayload({ id, submitter_username: "alice", ...RUNNING, ...over } as Parameters<typeof notifyPayload>[0], 0);
  payload.magma = { ...payload.magma!, instance: lab };
  await ingestCallback({
    db: db(),
    job: { instance: lab, receivedAt: new Date().toISOString(), payload },
    log: pino({ level: "silent" }),
  });
}

const cancelRest = async (lab: string, id: string, token?: string) => {
  const { POST } = await import("../src/app/api/v1/jobs/[lab]/[id]/cancel/route.ts");
  const res = await POST(
    new Request(`http://127.0.0.1:3000/api/v1/jobs/${lab}/${id}/cancel`, {
      method: "POST",
      headers: token ? { authorization: `Token ${token}` } : {},
    }),
    { params: Promise.resolve({ lab, id }) },
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const link = async (path: "poll" | "acks" | "logs", body?: unknown) => {
  const headers = { authorization: `Token ${credential}`, "content-type": "application/json" };
  const params = { params: Promise.resolve({ lab: "lab-o" }) };
  if (path === "poll") {
    const { GET } = await import("../src/app/api/federation/labs/[lab]/poll/route.ts");
    return GET(new Request("http://127.0.0.1:3000/api/federation/labs/lab-o/poll?wait=0", { headers }), params);
  }
  const { POST } =
    path === "acks"
      ? await import("../src/app/api/federation/labs/[lab]/acks/route.ts")
      : await import("../src/app/api/federation/labs/[lab]/logs/route.ts");
  return POST(
    new Request(`http://127.0.0.1:3000/api/federation/labs/lab-o/${path}`, { method: "POST", headers, body: JSON.stringify(body) }),
    params,
  );
};

const lines = (from: number, to: number): TLogLine[] =>
  Array.from({ length: to - from }, (_, i) => ({
    line: from + i,
    dt: "2026-12-01T00:00:00.000000",
    lvl: "target",
    msg: `line ${from + i}`,
  }));

const push = async (chunk: { job_id: number; first_line: number; lines: TLogLine[]; end?: number }) => {
  const res = await link("logs", { chunks: [chunk] });
  expect(res.status).toBe(200);
  return ((await res.json()) as TLabLogPushResponse).jobs[0]!;
};

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [
    { name: "lab-m", url: await startLab(), api_token: "api-m", callback_token: "cb-lab-m-secret" },
    { name: "lab-l", kind: "lava", url: await startLab(), api_token: "api-l", callback_token: "cb-lab-l-secret" },
  ]);
  const { enrollLab, redeemEnrollment } = await import("../src/server/services/labs.ts");
  credential = (await redeemEnrollment(db(), (await enrollLab(db(), "lab-o")).token)).credential;
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const run = async (...a: string[]) => {
    const out: string[] = [];
    await runUsersCli(a, (l) => out.push(l));
    return out;
  };
  await run("add", "alice");
  await run("add", "bob");
  await run("add", "root", "--superuser");
  for (const u of ["alice", "bob", "root"]) tokens[u] = (await run("tokens", "create", u))[0]!;
  for (const lab of ["lab-m", "lab-l", "lab-o"]) await ingest(lab, 7);
  await ingest("lab-m", 8, { state: 5, state_string: "Finished", health: 1, health_string: "Complete" });
});

afterAll(async () => {
  for (const l of labs) await l.close();
  await envCtl?.cleanup();
});

describe("job cancel", () => {
  it("refuses anonymous callers (401), other users (403) and unknown jobs (404); nothing reaches the lab", async () => {
    expect(await cancelRest("lab-m", "7")).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED" } });
    expect((await cancelRest("lab-m", "7", "forged-token-0000000")).status).toBe(401);
    const other = await cancelRest("lab-m", "7", tokens["bob"]);
    expect(other.status).toBe(403);
    expect(other.body["message"]).toMatch(/"bob" may not cancel job 7 of lab "lab-m"/);
    expect((await cancelRest("lab-m", "99", tokens["alice"])).status).toBe(404);
    expect((await cancelRest("lab-x", "7", tokens["alice"])).status).toBe(404);
    expect((await cancelRest("lab-m", "x7", tokens["alice"])).status).toBe(400);
    const anon = await callTrpc("jobs.cancel", { mutation: true, input: { lab: "lab-m", id: 7 } });
    expect(anon.status).toBe(401);
    const bob = await callTrpc("jobs.cancel", {
      mutation: true,
      input: { lab: "lab-m", id: 7 },
      headers: { authorization: `Token ${tokens["bob"]}` },
    });
    expect(bob.status).toBe(403);
    expect(cancels).toEqual([]);
  });

  it("lets the submitter and a superuser cancel: a Magma lab gets its REST cancel as the submitter, a LAVA lab LAVA's", async () => {
    expect(await cancelRest("lab-m", "7", tokens["alice"])).toMatchObject({ status: 200, body: { lab: "lab-m", id: 7, status: "sent" } });
    const root = await callTrpc("jobs.cancel", {
      mutation: true,
      input: { lab: "lab-m", id: 7 },
      headers: { authorization: `Token ${tokens["root"]}` },
    });
    expect(root).toMatchObject({ status: 200, data: { status: "sent" } });
    expect((await cancelRest("lab-l", "7", tokens["alice"])).status).toBe(200);
    expect(cancels).toEqual([
      "POST /api/v0.2/jobs/7/cancel/ alice",
      "POST /api/v0.2/jobs/7/cancel/ alice",
      "GET /api/v0.2/jobs/7/cancel/ -",
    ]);
    // a finished job: nothing to cancel, the lab is not called
    expect(await cancelRest("lab-m", "8", tokens["alice"])).toMatchObject({ status: 200, body: { status: "finished" } });
    expect(cancels).toHaveLength(3);
  });

  it("queues an outbound lab's cancel: every poll carries it until the lab acknowledges it, once", async () => {
    expect(await cancelRest("lab-o", "7", tokens["alice"])).toMatchObject({ status: 200, body: { status: "queued" } });
    // asked twice: still one cancel
    expect((await cancelRest("lab-o", "7", tokens["root"])).status).toBe(200);
    const first = (await (await link("poll")).json()) as TLabWork;
    expect(first.cancels).toEqual([{ cancel_id: expect.any(String), job_id: 7, requested_by: "root" }]);
    // the connection dropped before the lab acknowledged: the next poll sends it again
    const again = (await (await link("poll")).json()) as TLabWork;
    expect(again.cancels).toEqual(first.cancels);
    const ack = await link("acks", {
      cancels: [
        { cancel_id: first.cancels[0]!.cancel_id, state: "Canceling" },
        { cancel_id: "424242", state: "Canceling" },
      ],
    });
    expect(await ack.json()).toEqual({ accepted: 1, unknown: ["424242"] });
    expect(((await (await link("poll")).json()) as TLabWork).cancels).toEqual([]);
    const bad = await link("acks", { cancels: [] });
    expect(bad.status).toBe(400);
    expect(cancels).toHaveLength(3);
  });
});

describe("log chunks over an outbound lab's link", () => {
  it("stores each line once by index across re-sent, overlapping and early chunks, and serves the job log and stream from them", async () => {
    expect((await push({ job_id: 7, first_line: 0, lines: [] })).next_line).toBe(0);
    expect(await push({ job_id: 7, first_line: 0, lines: lines(0, 5) })).toMatchObject({ known: true, next_line: 5, done: false });
    // the answer was lost: the same chunk again stores nothing
    expect((await push({ job_id: 7, first_line: 0, lines: lines(0, 5) })).next_line).toBe(5);
    // overlapping: only lines 5..9 are new
    expect((await push({ job_id: 7, first_line: 3, lines: lines(3, 10) })).next_line).toBe(10);
    // past the stored end: refused, the lab rewinds to 10
    expect((await push({ job_id: 7, first_line: 15, lines: lines(15, 20) })).next_line).toBe(10);
    // a job the frontend does not know yet
    expect(await push({ job_id: 99, first_line: 0, lines: lines(0, 2) })).toMatchObject({ known: false });
    const badLines = await link("logs", { chunks: [{ job_id: 7, first_line: 10, lines: lines(11, 12) }] });
    expect(badLines.status).toBe(400);
    expect(((await badLines.json()) as { message: string }).message).toMatch(/^chunks\.0\.lines: /);
    const wrongCredential = await (
      await import("../src/app/api/federation/labs/[lab]/logs/route.ts")
    ).POST(
      new Request("http://127.0.0.1:3000/api/federation/labs/lab-o/logs", {
        method: "POST",
        headers: { authorization: "Token not-the-credential" },
        body: JSON.stringify({ chunks: [{ job_id: 7, first_line: 10, lines: [] }] }),
      }),
      { params: Promise.resolve({ lab: "lab-o" }) },
    );
    expect(wrongCredential.status).toBe(403);

    const viaTrpc = await callTrpc("jobs.log", { input: { lab: "lab-o", id: 7, start: 0 } });
    expect(viaTrpc.status).toBe(200);
    const log = viaTrpc.data as { lines: TLogLine[]; nextStart: number };
    expect(log.lines).toEqual(lines(0, 10));
    expect(log.nextStart).toBe(10);
    expect(((await callTrpc("jobs.log", { input: { lab: "lab-o", id: 7, start: 8 } })).data as { lines: TLogLine[] }).lines).toEqual(
      lines(8, 10),
    );
    // the poll lists the job as wanted from line 10 (a restarted lab resumes there)
    expect(((await (await link("poll")).json()) as TLabWork).logs).toEqual([{ job_id: 7, next_line: 10 }]);

    // the job finishes; its last lines and `end` arrive
    await ingest("lab-o", 7, { state: 5, state_string: "Finished", health: 3, health_string: "Canceled" });
    expect(await push({ job_id: 7, first_line: 10, lines: lines(10, 12), end: 12 })).toMatchObject({ next_line: 12, done: true });
    expect((await push({ job_id: 7, first_line: 12, lines: lines(12, 13) })).next_line).toBe(12);
    expect(((await (await link("poll")).json()) as TLabWork).logs).toEqual([]);

    const { GET } = await import("../src/app/api/labs/[lab]/jobs/[id]/logs/stream/route.ts");
    const res = await GET(new Request("http://127.0.0.1:3000/api/labs/lab-o/jobs/7/logs/stream?start=2"), {
      params: Promise.resolve({ lab: "lab-o", id: "7" }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const streamed = [...text.matchAll(/^event: line\nid: (\d+)\ndata: (.*)$/gm)].map((m) => JSON.parse(m[2]!) as TLogLine);
    expect(streamed).toEqual(lines(2, 12));
    expect(text).toMatch(/event: end\ndata: \{"line_count":12\}\n\n$/);
  });
});
