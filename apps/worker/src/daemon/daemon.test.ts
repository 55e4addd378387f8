import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { TLogUpload, TPingResponse } from "@magma/protocol";
import type { JobOutcome, RunJobOptions } from "../job-runner.ts";
import { WorkerDaemon } from "./daemon.ts";

interface Post {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A fake instance worker API: scripted ping answers, recorded posts, optional failures. As the real
 * instance, it never lists a job again once it acknowledged the job's FINISHED.
 */
async function fakeInstance(opts: { pings: (n: number) => TPingResponse | number; failFinished?: number }) {
  const posts: Post[] = [];
  const logs: unknown[] = [];
  const finished = new Set<number>();
  const unfinished = (jobs: TPingResponse["start"]) => jobs.filter((j) => !finished.has(j.id));
  let pings = 0;
  let finishedFailures = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname === "/scheduler/internal/v1/workers/w1/") {
        if (req.headers["lava-token"] !== "worker-token") return json(403, { message: "Invalid 'token'" });
        const a = opts.pings(++pings);
        if (typeof a === "number") return json(a, { message: "Version mismatch" });
        return json(200, { start: unfinished(a.start), running: unfinished(a.running), cancel: unfinished(a.cancel) });
      }
      const m = /^\/scheduler\/internal\/v1\/jobs\/(\d+)\/(logs\/)?$/.exec(url.pathname);
      if (!m) return json(404, {});
      if (m[2]) {
        const up = JSON.parse(raw) as TLogUpload;
        const skip = Math.max(0, logs.length - up.index);
        logs.push(...up.lines.slice(skip));
        return json(200, { line_count: up.lines.length });
      }
      if (req.method === "GET")
        return json(200, { definition: "job_name: x", device: "hostname: d", dispatcher: null, env: null, "env-dut": null });
      const body = JSON.parse(raw) as Record<string, unknown>;
      if (body["state"] === "FINISHED" && finishedFailures < (opts.failFinished ?? 0)) {
        finishedFailures++;
        return json(503, {});
      }
      posts.push({ path: url.pathname, body: { ...body, logsAtThisPoint: logs.length } });
      if (body["state"] === "FINISHED") finished.add(Number(m[1]));
      json(200, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    logs,
    pings: () => pings,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Polls `cond` every 20 ms until true, failing after `timeoutMs`. */
async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  pings: (n: number) => TPingResponse | number,
  runJob: (o: RunJobOptions) => Promise<JobOutcome>,
  failFinished = 0,
  journal?: object,
) {
  const inst = await fakeInstance({ pings, failFinished });
  const dir = mkdtempSync(path.join(os.tmpdir(), "magma-daemon-test-"));
  if (journal) writeFileSync(path.join(dir, "journal.json"), JSON.stringify(journal));
  const daemon = new WorkerDaemon({
    name: "w1",
    instanceUrl: inst.url,
    workerToken: "worker-token",
    workerDir: dir,
    pingWaitMs: 0,
    logger: pino({ level: "silent" }),
    runJob,
  });
  cleanups.push(
    inst.close,
    () => rmSync(dir, { recursive: true, force: true }),
    () => daemon.stop(2000),
  );
  await daemon.start();
  return { inst, daemon, dir };
}

const empty: TPingResponse = { start: [], running: [], cancel: [] };
const finishedOf = (posts: Post[], id: number) =>
  posts.filter((p) => p.path === `/scheduler/internal/v1/jobs/${id}/` && p.body["state"] === "FINISHED");

describe("WorkerDaemon", () => {
  it("starts a job: RUNNING, logs flushed, then FINISHED re-sent until acknowledged", async () => {
    const fakeRun = async (o: RunJobOptions): Promise<JobOutcome> => {
      for (let i = 0; i < 5; i++) o.sink({ dt: "2026-01-01T00:00:00", lvl: "info", msg: `line ${i}` });
      return { result: "pass", error_type: "", errors: "", description: "" };
    };
    const { inst } = await setup((n) => (n === 1 ? 409 : n <= 3 ? { ...empty, start: [{ id: 7, token: "jt7" }] } : empty), fakeRun, 2);
    await waitFor(() => finishedOf(inst.posts, 7).length === 1);
    const states = inst.posts.map((p) => p.body["state"]);
    expect(states).toEqual(["RUNNING", "FINISHED"]);
    expect(finishedOf(inst.posts, 7)[0]!.body).toMatchObject({ result: "pass", error_type: "", logsAtThisPoint: 5 });
    expect(inst.logs).toHaveLength(5);
  });

  it("cancels a running job through its AbortSignal", async () => {
    let started = false;
    const fakeRun = (o: RunJobOptions) =>
      new Promise<JobOutcome>((resolve) => {
        started = true;
        o.signal!.addEventListener("abort", () =>
          resolve({ result: "fail", error_type: "Canceled", errors: (o.signal!.reason as Error).message, description: "" }),
        );
      });
    const { inst } = await setup(
      (n) =>
        n === 1
          ? { ...empty, start: [{ id: 9, token: "jt9" }] }
          : started
            ? { ...empty, cancel: [{ id: 9, token: "jt9" }] }
            : { ...empty, running: [{ id: 9, token: "jt9" }] },
      fakeRun,
    );
    await waitFor(() => finishedOf(inst.posts, 9).length === 1);
    expect(finishedOf(inst.posts, 9)[0]!.body).toMatchObject({ result: "fail", error_type: "Canceled", errors: "The job was canceled" });
  });

  it("reports a running job lost by a restart as Infrastructure, telling 'mine' from 'never seen'", async () => {
    const journal = { jobs: { "11": { token: "jt11", pid: 999_999, startedAt: "2026-01-01T00:00:00Z" } } };
    const { inst } = await setup(
      () => ({
        ...empty,
        running: [
          { id: 11, token: "jt11" },
          { id: 12, token: "jt12" },
        ],
      }),
      async () => {
        throw new Error("must not run");
      },
      0,
      journal,
    );
    await waitFor(() => finishedOf(inst.posts, 11).length === 1 && finishedOf(inst.posts, 12).length === 1);
    expect(finishedOf(inst.posts, 11)[0]!.body).toMatchObject({
      result: "fail",
      error_type: "Infrastructure",
      errors: "worker w1 restarted while job 11 was running; the DUT session was lost",
    });
    expect(finishedOf(inst.posts, 12)[0]!.body).toMatchObject({ result: "fail", error_type: "Infrastructure" });
  });
});
