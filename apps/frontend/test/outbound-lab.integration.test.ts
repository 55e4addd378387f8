/**
 * An outbound-only lab on real processes: a Magma instance + worker (child processes, QEMU DUT)
 * enrolled with `labs enroll`, which the frontend has NO URL for, joins by connecting out to the
 * frontend's HTTP handlers (served here on a real port), pulls a submitted job, runs it, and pushes
 * its state changes and results through its outbox: test cases show on the frontend while the job
 * still runs (live results). The frontend is cut off mid-job (every socket destroyed, the server
 * down) and comes back: the job's results arrive exactly once, the rollup counts matching them, and
 * its log, pushed over the link in line ranges, is complete and in order with no line twice.
 * A second job is canceled from the frontend: the cancel reaches the lab on its next poll and the job
 * ends Finished/Canceled through the lab's state pushes.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { stringify } from "yaml";
import { findViewerByUsername, type TViewer } from "@magma/db/frontend";
import { createTestDatabase, type TestDatabase } from "@magma/db/testing";
import { setupTestEnv, waitFor } from "./helpers.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let labDb: TestDatabase;
let labPg: pg.Pool;
let stateDir: string;
let viewer: TViewer;
const children: ChildProcess[] = [];
const closers: (() => Promise<void>)[] = [];

type Handler = (req: Request, ctx: { params: Promise<{ lab: string }> }) => Promise<Response>;

/** The frontend's lab-facing routes on a real HTTP server; `cut()` kills every connection and stops it. */
async function startFrontendHttp(port = 0): Promise<{ url: string; port: number; cut(): Promise<void>; requests: string[] }> {
  const routes: [RegExp, string, () => Promise<Handler>][] = [
    [/^\/api\/federation\/enroll$/, "POST", async () => (await import("../src/app/api/federation/enroll/route.ts")).POST],
    [
      /^\/api\/federation\/labs\/([^/]+)\/poll$/,
      "GET",
      async () => (await import("../src/app/api/federation/labs/[lab]/poll/route.ts")).GET,
    ],
    [
      /^\/api\/federation\/labs\/([^/]+)\/acks$/,
      "POST",
      async () => (await import("../src/app/api/federation/labs/[lab]/acks/route.ts")).POST,
    ],
    [
      /^\/api\/federation\/labs\/([^/]+)\/logs$/,
      "POST",
      async () => (await import("../src/app/api/federation/labs/[lab]/logs/route.ts")).POST,
    ],
    [/^\/api\/callbacks\/([^/]+)$/, "POST", async () => (await import("../src/app/api/callbacks/[lab]/route.ts")).POST],
  ];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const u = new URL(req.url ?? "/", "http://127.0.0.1");
        requests.push(`${req.method} ${u.pathname}`);
        const route = routes.find(([re, m]) => m === req.method && re.test(u.pathname));
        if (!route) {
          res.writeHead(404).end();
          return;
        }
        const lab = decodeURIComponent(route[0].exec(u.pathname)![1] ?? "");
        const abort = new AbortController();
        res.on("close", () => abort.abort());
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        const request = new Request(u.toString(), {
          method: req.method,
          headers,
          body: req.method === "GET" ? undefined : Buffer.concat(chunks),
          signal: abort.signal,
        });
        const response = await (await route[2]())(request, { params: Promise.resolve({ lab }) });
        const body = Buffer.from(await response.arrayBuffer());
        if (!res.destroyed)
          res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json" }).end(body);
      })().catch((e: Error) => {
        if (!res.destroyed) res.writeHead(500).end(e.message);
      });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Serves the QEMU DUT images (vmlinuz, initramfs.cpio.gz). */
async function serveDut(): Promise<string> {
  const dir = path.join(ROOT, ".magma/dut");
  const server = createServer((req, res) => {
    const name = path.basename(req.url ?? "");
    if (name !== "vmlinuz" && name !== "initramfs.cpio.gz") return void res.writeHead(404).end();
    createReadStream(path.join(dir, name))
      .on("error", () => res.writeHead(404).end())
      .pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function startProcess(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  child.stdout!.on("data", (c: Buffer) => log.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => log.push(c.toString()));
  child.on("exit", (code) => {
    if (code && code !== 0) console.error(`${name} exited ${code}:\n${log.join("").slice(-4000)}`);
  });
  children.push(child);
  return child;
}

function job(artifactsUrl: string, ticks: number): string {
  return stringify({
    device_type: "qemu",
    job_name: "outbound lab-c job",
    timeouts: { job: { seconds: 900 }, action: { minutes: 5 }, connection: { minutes: 2 } },
    priority: "medium",
    visibility: "public",
    actions: [
      {
        deploy: {
          timeout: { minutes: 3 },
          to: "tmpfs",
          os: "oe",
          images: {
            kernel: { image_arg: '-kernel {kernel} -append "console=ttyS0,115200 quiet"', url: `${artifactsUrl}/vmlinuz` },
            initrd: { image_arg: "-initrd {initrd}", url: `${artifactsUrl}/initramfs.cpio.gz` },
          },
        },
      },
      { boot: { timeout: { minutes: 3 }, method: "qemu", media: "tmpfs", prompts: ["magma-dut:/# "] } },
      {
        test: {
          timeout: { minutes: 5 },
          definitions: [
            {
              repository: {
                metadata: { format: "Lava-Test Test Definition 1.0", name: "ticks", description: "outbound" },
                run: {
                  steps: [
                    `for i in $(seq 1 ${ticks}); do echo "tick $i"; lava-test-case tick-$i --result pass; sleep 1; done`,
                    "lava-test-case done --result pass",
                  ],
                },
              },
              from: "inline",
              name: "ticks",
              path: "inline/ticks.yaml",
            },
          ],
        },
      },
    ],
  });
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  process.env["MAGMA_FRONTEND_SECRET_KEY"] = "outbound-lab-test-key-0123456789abcdefghij";
  labDb = await createTestDatabase("instance");
  labPg = new pg.Pool({ connectionString: labDb.url, max: 2 });
  stateDir = mkdtempSync(path.join(tmpdir(), "magma-outbound-"));
  const { db } = await import("../src/server/db.ts");
  const { addUser } = await import("../src/server/services/accounts.ts");
  await addUser(db(), { username: "sam", superuser: true });
  viewer = (await findViewerByUsername(db(), "sam"))!;
  const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
  const { startSubmissionConsumer } = await import("../src/server/queues/submission-consumer.ts");
  const { logger } = await import("../src/server/logger.ts");
  const callbacks = startCallbackConsumer({ db: db(), prefix: envCtl.prefix, log: logger() });
  const submissions = startSubmissionConsumer({ db: db(), prefix: envCtl.prefix, log: logger() });
  closers.push(callbacks.close, submissions.close);
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await labPg?.end();
  await labDb?.drop();
  await envCtl?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

describe("outbound-only lab (lab-c, no URL on the frontend)", () => {
  it("enrolls, shows live results, completes a submitted job and survives the frontend being cut off mid-job, results exactly once", async () => {
    const { db } = await import("../src/server/db.ts");
    const { enrollLab, listLabs } = await import("../src/server/services/labs.ts");
    const { createSubmission } = await import("../src/server/services/create-submission.ts");
    const frontend = await startFrontendHttp();
    let current = frontend;
    closers.push(() => current.cut());
    const artifactsUrl = await serveDut();

    // the lab: seeded like the demo's labs, started with only the frontend URL and the token
    const { token } = await enrollLab(db(), "lab-c");
    const workerToken = "lab-c-worker-token-0123456789";
    const seed = path.join(stateDir, "lab-c.seed.yaml");
    writeFileSync(
      seed,
      stringify({
        workers: [{ hostname: "lab-c-worker", token: workerToken }],
        device_types: [
          { name: "qemu", dictionary: { qemu: { binary: "qemu-system-x86_64", machine: "pc,accel=tcg", memory_mb: 256, smp: 1 } } },
        ],
        devices: [{ hostname: "qemu-01", device_type: "qemu", worker: "lab-c-worker", tags: [], health: "Good", dictionary: {} }],
      }),
    );
    const labEnv = { MAGMA_INSTANCE_NAME: "lab-c", MAGMA_INSTANCE_DATABASE_URL: labDb.url, MAGMA_LOG_LEVEL: "info" };
    await run(process.execPath, ["--import", "tsx", "apps/instance/src/cli.ts", "seed", seed], {
      cwd: ROOT,
      env: { ...process.env, ...labEnv },
    });
    const labPort = await freePort();
    startProcess("lab-c instance", ["--import", "tsx", "apps/instance/src/main.ts"], {
      ...labEnv,
      MAGMA_INSTANCE_PORT: String(labPort),
      MAGMA_FEDERATION_URL: frontend.url,
      MAGMA_ENROLLMENT_TOKEN: token,
    });
    startProcess("lab-c worker", ["--import", "tsx", "apps/worker/src/main.ts"], {
      MAGMA_WORKER_NAME: "lab-c-worker",
      MAGMA_INSTANCE_URL: `http://127.0.0.1:${labPort}`,
      MAGMA_WORKER_TOKEN: workerToken,
      MAGMA_WORKER_DIR: path.join(stateDir, "worker"),
      MAGMA_LOG_LEVEL: "warn",
    });

    await waitFor(
      async () => (await listLabs(db())).find((l) => l.name === "lab-c" && l.status === "connected"),
      90_000,
      "lab-c connected",
    );
    const labC = (await listLabs(db())).find((l) => l.name === "lab-c")!;
    expect(labC).toMatchObject({ mode: "outbound", url: null, signedCallbacks: true });

    // submit as a user would; the frontend never calls the lab: the target waits for the lab's poll
    const { submission } = await createSubmission({
      db: db(),
      clientRequestId: "outbound-1",
      definition: job(artifactsUrl, 20),
      labs: ["lab-c"],
      viewer,
      timeoutMs: 2000,
    });
    const target = await waitFor(
      async () => db().submissionTarget.findFirst({ where: { submission_id: submission.id, status: "submitted" } }),
      60_000,
      "lab-c to take the submission",
    );
    const jobId = target.remote_job_id!;
    const fedJob = () => db().federatedJob.findFirst({ where: { instance: { name: "lab-c" }, remote_id: jobId } });
    await waitFor(async () => (await fedJob())?.state === "Running", 240_000, "Running to reach the frontend");
    // live results: test cases the job records reach the frontend while it still runs (pushed over the
    // same outbox as its state changes, at most once a second)
    const fedCasesOf = () => db().federatedTestCase.findMany({ where: { remote_job_id: jobId, instance: { name: "lab-c" } } });
    const live = await waitFor(
      async () => {
        const cases = await fedCasesOf();
        const j = await fedJob();
        return j?.state === "Running" && cases.some((c) => c.name.startsWith("tick-")) ? cases : null;
      },
      240_000,
      "tick cases to reach the frontend while the job runs",
    );
    expect(live.length).toBeGreaterThan(0);
    // the log arrives over the link while the job runs, readable on the frontend as for any lab
    const { getJobLog } = await import("../src/server/services/get-job-log.ts");
    const fedLog = () => getJobLog({ db: db(), lab: "lab-c", jobId, start: 0, timeoutMs: 2000, viewer });
    await waitFor(
      async () => (await fedLog()).lines.some((l) => JSON.stringify(l.msg).includes("tick 1")),
      120_000,
      "the DUT's output in the stored log",
    );

    // cut the frontend off mid-job: every connection (the lab's long poll too) dies, nothing listens
    await frontend.cut();
    const labJob = async () =>
      (await labPg.query<{ state: string; health: string }>("SELECT state, health FROM test_jobs WHERE id = $1", [jobId])).rows[0];
    expect((await labJob())!.state).toBe("Running");
    await waitFor(async () => (await labJob())?.state === "Finished", 300_000, "the job to finish on lab-c while cut off");
    // the lab could not deliver the Finished callback: it waits in the outbox
    await waitFor(
      async () =>
        (
          await labPg.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM callback_outbox WHERE job_id = $1 AND state = 'pending' AND attempts > 0 AND last_error IS NOT NULL",
            [jobId],
          )
        ).rows[0]!.n > 0,
      60_000,
      "the lab's outbox to fail delivering while the frontend is down",
    );
    expect((await fedJob())!.state).toBe("Running");

    // the frontend comes back on the same port: the lab reconnects and its outbox delivers
    current = await startFrontendHttp(frontend.port);
    const done = await waitFor(
      async () => {
        const j = await fedJob();
        return j?.state === "Finished" ? j : null;
      },
      120_000,
      "Finished to reach the frontend after the cut",
    );
    expect(done.health).toBe((await labJob())!.health);
    expect(done.health).toBe("Complete");

    const labCases = await labPg.query<{ name: string }>("SELECT name FROM test_cases WHERE job_id = $1 ORDER BY name", [jobId]);
    const fedCases = await fedCasesOf();
    expect(labCases.rows.length).toBeGreaterThanOrEqual(21);
    // exactly once: every case of the lab, none twice
    expect(fedCases.map((c) => c.name).sort()).toEqual(labCases.rows.map((r) => r.name).sort());
    expect(new Set(fedCases.map((c) => c.remote_case_id)).size).toBe(fedCases.length);
    // and the rollup counts (live pushes + the Finished callback) equal the stored cases
    const counted = fedCases.filter((c) => c.suite !== "lava");
    const rolled = (await fedJob())!;
    expect({ pass: rolled.pass_count, fail: rolled.fail_count, skip: rolled.skip_count, unknown: rolled.unknown_count }).toEqual({
      pass: counted.filter((c) => c.result === "pass").length,
      fail: counted.filter((c) => c.result === "fail").length,
      skip: counted.filter((c) => c.result === "skip").length,
      unknown: counted.filter((c) => !["pass", "fail", "skip"].includes(c.result)).length,
    });
    expect(rolled.pass_count).toBeGreaterThanOrEqual(21);
    expect(await db().federatedJob.count({ where: { instance: { name: "lab-c" } } })).toBe(1);
    // the log: every line of the lab's, in order, once, although pushes failed during the cut
    await waitFor(async () => (await fedJob())?.link_log_done, 120_000, "the lab to push the whole log");
    const labLog = await labPg.query<{ index: number; msg: unknown }>("SELECT index, msg FROM log_lines WHERE job_id = $1 ORDER BY index", [
      jobId,
    ]);
    const stored = (await fedLog()).lines;
    expect(stored.map((l) => l.line)).toEqual(labLog.rows.map((_, i) => i));
    expect(stored.map((l) => l.msg)).toEqual(labLog.rows.map((r) => r.msg));
    expect(stored.filter((l) => JSON.stringify(l.msg).includes("tick 20")).length).toBeGreaterThan(0);

    // the lab reconnected its link and was never called: the frontend has no URL for it
    await waitFor(async () => current.requests.some((r) => r === "GET /api/federation/labs/lab-c/poll"), 60_000, "the link to reconnect");
    expect((await listLabs(db())).find((l) => l.name === "lab-c")).toMatchObject({ url: null, status: "connected" });

    // a cancel from the frontend reaches the lab over its link; the job ends Canceled
    const { cancelFederatedJob } = await import("../src/server/services/cancel-federated-job.ts");
    const { logger } = await import("../src/server/logger.ts");
    const second = await createSubmission({
      db: db(),
      clientRequestId: "outbound-2",
      definition: job(artifactsUrl, 600),
      labs: ["lab-c"],
      viewer,
      timeoutMs: 2000,
    });
    const target2 = await waitFor(
      async () => db().submissionTarget.findFirst({ where: { submission_id: second.submission.id, status: "submitted" } }),
      60_000,
      "lab-c to take the second submission",
    );
    const jobId2 = target2.remote_job_id!;
    const fedJob2 = () => db().federatedJob.findFirst({ where: { instance: { name: "lab-c" }, remote_id: jobId2 } });
    await waitFor(async () => (await fedJob2())?.state === "Running", 240_000, "the second job to run");
    // canceled once its test runs on the DUT (its output is in the log pushed over the link)
    await waitFor(
      async () =>
        (await getJobLog({ db: db(), lab: "lab-c", jobId: jobId2, start: 0, timeoutMs: 2000, viewer })).lines.some((l) =>
          JSON.stringify(l.msg).includes("tick 1"),
        ),
      240_000,
      "the second job's test to run",
    );
    const r = await cancelFederatedJob({ db: db(), lab: "lab-c", jobId: jobId2, viewer, timeoutMs: 2000, log: logger() });
    expect(r.status).toBe("queued");
    const canceled = await waitFor(
      async () => {
        const j = await fedJob2();
        return j?.state === "Finished" ? j : null;
      },
      180_000,
      "the canceled job to finish",
    );
    expect(canceled.health).toBe("Canceled");
    const labJob2 = await labPg.query<{ state: string; health: string }>("SELECT state, health FROM test_jobs WHERE id = $1", [jobId2]);
    expect(labJob2.rows[0]).toEqual({ state: "Finished", health: "Canceled" });
    const req = await db().jobCancelRequest.findFirst({ where: { remote_job_id: jobId2 } });
    expect(req?.acked_at).not.toBeNull();
  }, 900_000);
});
