import path from "node:path";
import type { Logger } from "pino";
import type { TJobBundle, TJobStateUpdate, TPingJob, TPingResponse } from "@magma/protocol";
import { InfrastructureError, JobCanceled } from "../errors.ts";
import { lavaNow } from "../dispatcher/job-log.ts";
import { runJob as defaultRunJob, type RunJobOptions } from "../job-runner.ts";
import { jobResult, type JobOutcome } from "../job-result.ts";
import { LogShipper } from "../log-shipper.ts";
import { InstanceClient, InstanceHttpError } from "./instance-client.ts";
import { Journal } from "./journal.ts";
import { ImageCache } from "../dispatcher/image-cache.ts";

/** Retry delay after a failed ping (network error / 5xx), as lava-worker: 1 s. */
const PING_RETRY_MS = 1000;
/** Shortest time between two pings, in ms, so a ping answered at once cannot spin. */
const MIN_PING_INTERVAL_MS = 1000;
/** How long the job's logs may take to be acknowledged before FINISHED is sent anyway, in ms. */
const LOG_FLUSH_DEADLINE_MS = 5 * 60_000;
/** How long the daemon tries to fetch a job bundle / report RUNNING, in ms. */
const START_DEADLINE_MS = 60_000;
/** Longest backoff between FINISHED retries, in ms. */
const MAX_FINISH_BACKOFF_MS = 30_000;

export interface WorkerDaemonOptions {
  name: string;
  instanceUrl: string;
  workerToken: string;
  workerDir: string;
  pingWaitMs: number;
  /** where each job's TFTP server listens ({SERVER_IP}, port 0 = free port); default 127.0.0.1:0 */
  tftp?: { ip: string; port: number };
  /** Largest image a job may download, in bytes (MAGMA_WORKER_MAX_DOWNLOAD_BYTES); default 8 GiB. */
  maxDownloadBytes?: number;
  /** Byte budget of the image cache in `<workerDir>/image-cache` (MAGMA_WORKER_IMAGE_CACHE_BYTES); 0 or unset: no cache. */
  imageCacheBytes?: number;
  /** Most job log records (MAGMA_WORKER_MAX_LOG_LINES) and test cases (MAGMA_WORKER_MAX_TEST_CASES) per job. */
  maxLogLines?: number;
  maxTestCases?: number;
  logger: Logger;
  /** The job runner (tests inject a fake; default: the real pipeline). */
  runJob?: (options: RunJobOptions) => Promise<JobOutcome>;
}

interface RunningJob {
  token: string;
  ctrl: AbortController;
  done: Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The worker daemon (LAVA's lava-worker + the lava-run it spawns): a reconcile loop on the
 * instance's long-poll ping. For each `start` job not running here: fetch the bundle while the
 * journal is written and RUNNING reported, run the pipeline (several jobs at once, one per device),
 * flush every log line, then report FINISHED until the instance acknowledges it. `cancel` aborts a running job (→ Canceled).
 * A `running` job this process does not run (worker restarted) is not re-attached: it is reported
 * FINISHED fail/Infrastructure, using the local {@link Journal} to say whether it was ours.
 * Network errors and 5xx are retried every second and counted, not logged each time; 409 (protocol
 * version mismatch) is logged and retried after one ping interval.
 */
export class WorkerDaemon {
  private readonly client: InstanceClient;
  private readonly journal: Journal;
  private readonly imageCache: ImageCache | undefined;
  private readonly running = new Map<number, RunningJob>();
  /** Log shippers of the jobs of this process, until their last line is acknowledged. */
  private readonly shippers = new Set<LogShipper>();
  /** When the instance last answered a ping (ms since the epoch; 0 = never). */
  private lastPingOkAt = 0;
  /** Jobs whose FINISHED is being reported (running or lost ones). */
  private readonly finishing = new Map<number, Promise<void>>();
  private readonly stopCtrl = new AbortController();
  /**
   * Aborted when a job this daemon ran has been reported FINISHED: its device is free, so the ping loop's pause
   * (MIN_PING_INTERVAL_MS) ends and the next long-poll starts at once — a job submitted to that
   * device, or queued for it, starts without waiting up to a second. Renewed after each pause.
   */
  private pingNow = new AbortController();
  /** Aborted when shutdown gives up on unacknowledged reports. */
  private readonly hardStop = new AbortController();
  private loop: Promise<void> | undefined;
  private inheritedChecked = false;
  private readonly log: Logger;
  private readonly runJobImpl: (options: RunJobOptions) => Promise<JobOutcome>;

  constructor(private readonly options: WorkerDaemonOptions) {
    this.client = new InstanceClient(options.instanceUrl);
    this.journal = new Journal(options.workerDir);
    this.imageCache = options.imageCacheBytes
      ? new ImageCache(path.join(options.workerDir, "image-cache"), options.imageCacheBytes)
      : undefined;
    this.log = options.logger;
    this.runJobImpl = options.runJob ?? defaultRunJob;
  }

  /** Ids of the jobs running in this process. */
  get runningJobs(): number[] {
    return [...this.running.keys()];
  }

  /** Log records queued for upload and not yet acknowledged by the instance, over every job. */
  get logBacklog(): number {
    let n = 0;
    for (const s of this.shippers) n += s.pending;
    return n;
  }

  /** When the instance last answered a ping, ms since the epoch (0 = not yet). */
  get lastPingOk(): number {
    return this.lastPingOkAt;
  }

  /** Loads the journal and starts the ping loop; resolves once the loop runs. */
  async start(): Promise<void> {
    await this.journal.load();
    const inherited = this.journal.inherited();
    if (inherited.length) this.log.warn({ jobs: inherited.map(([id]) => id) }, "journal lists jobs started by an earlier worker process");
    this.loop = this.pingLoop();
  }

  private async pingLoop(): Promise<void> {
    const { name, workerToken, pingWaitMs } = this.options;
    const stop = this.stopCtrl.signal;
    let failures = 0;
    let mismatches = 0;
    this.log.info({ instance: this.options.instanceUrl, workerDir: this.options.workerDir }, `worker ${name} started`);
    while (!stop.aborted) {
      const t0 = Date.now();
      let reply: TPingResponse;
      try {
        reply = await this.client.ping(name, workerToken, pingWaitMs, stop);
      } catch (e) {
        if (stop.aborted) break;
        const err = e instanceof InstanceHttpError ? e : new InstanceHttpError(0, String(e));
        if (err.status === 409) {
          mismatches++;
          if (mismatches === 1 || mismatches % 10 === 0) {
            this.log.error(
              { failures: mismatches },
              `instance refuses this worker's protocol version: ${err.message}; retrying every ${Math.round(Math.max(pingWaitMs, 1000) / 1000)} s`,
            );
          }
          await pause(Math.max(pingWaitMs, 1000), stop);
          continue;
        }
        failures++;
        if (failures === 1 || failures % 60 === 0) this.log.warn({ failures }, `ping failed: ${err.message}`);
        await pause(err.transient ? PING_RETRY_MS : 5 * PING_RETRY_MS, stop);
        continue;
      }
      this.lastPingOkAt = Date.now();
      if (failures || mismatches) this.log.info({ failures: failures + mismatches }, "instance reachable again");
      failures = 0;
      mismatches = 0;
      this.reconcile(reply);
      await pause(MIN_PING_INTERVAL_MS - (Date.now() - t0), AbortSignal.any([stop, this.pingNow.signal]));
      if (this.pingNow.signal.aborted) this.pingNow = new AbortController();
    }
  }

  /** Applies one ping answer: running (lost jobs), cancel, start — in LAVA's order. */
  reconcile(reply: TPingResponse): void {
    const { name } = this.options;
    for (const job of reply.running) {
      if (this.running.has(job.id) || this.finishing.has(job.id)) continue;
      const mine = this.journal.get(job.id);
      const errors = mine
        ? `worker ${name} restarted while job ${job.id} was running; the DUT session was lost`
        : `worker ${name} has no record of running job ${job.id} (its worker directory was lost?); the DUT session was lost`;
      this.log.warn({ jobId: job.id }, errors);
      this.report(job, { state: "FINISHED", result: "fail", error_type: "Infrastructure", errors, description: "" });
    }
    for (const job of reply.cancel) {
      const r = this.running.get(job.id);
      if (r) {
        if (!r.ctrl.signal.aborted) {
          this.log.info({ jobId: job.id }, "canceling job");
          r.ctrl.abort(new JobCanceled("The job was canceled"));
        }
      } else if (!this.finishing.has(job.id)) {
        this.log.info({ jobId: job.id }, "cancel for a job not running here: reporting it canceled");
        this.report(job, { state: "FINISHED", result: "fail", error_type: "Canceled", errors: "The job was canceled", description: "" });
      }
    }
    for (const job of reply.start) {
      if (this.running.has(job.id) || this.finishing.has(job.id) || this.stopCtrl.signal.aborted) continue;
      this.startJob(job);
    }
    if (!this.inheritedChecked) {
      // journal entries the instance no longer lists as active were settled while we were away
      this.inheritedChecked = true;
      const listed = new Set([...reply.running, ...reply.cancel, ...reply.start].map((j) => j.id));
      for (const [id] of this.journal.inherited()) if (!listed.has(id)) void this.journal.remove(id);
    }
  }

  private startJob(job: TPingJob): void {
    const ctrl = new AbortController();
    const entry: RunningJob = { token: job.token, ctrl, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.runOne(job, ctrl).catch((e: unknown) => {
      // a bug in supervision (journal write, shipper): still settle the job on the instance
      this.log.error({ jobId: job.id, err: e }, "job supervision failed");
      this.running.delete(job.id);
      const errors = `worker ${this.options.name} failed to supervise job ${job.id}: ${(e as Error).message}`;
      return this.report(job, { state: "FINISHED", result: "fail", error_type: "Bug", errors, description: "" });
    });
  }

  /**
   * Runs one job start to end. The start overlaps its round trips (as lava-worker, which starts
   * lava-run before reporting the job running): once the journal entry is on disk, the bundle GET
   * and the RUNNING POST leave together, and the pipeline starts as soon as the bundle arrives,
   * without waiting for RUNNING's acknowledgement (RUNNING is on the wire before the job's first CPU
   * work). FINISHED is sent only after the RUNNING report has settled, so the instance sees them in order.
   */
  private async runOne(job: TPingJob, ctrl: AbortController): Promise<void> {
    const { id, token } = job;
    const log = this.log.child({ jobId: id });
    await this.journal.add(id, token);
    log.info("starting job");
    const reportedRunning = this.withRetries(
      log,
      `report job ${id} RUNNING`,
      () => this.client.postState(id, token, { state: "RUNNING" }, ctrl.signal),
      ctrl.signal,
    ).catch((e) => {
      if (!ctrl.signal.aborted) log.warn(`could not report RUNNING (${(e as Error).message}); running the job anyway`);
    });
    const bundleFetch = this.withRetries(log, `fetch job ${id}`, () => this.client.jobBundle(id, token, ctrl.signal), ctrl.signal);
    const shipper = new LogShipper({
      client: this.client,
      jobId: id,
      token,
      onError: (e, n) => {
        if (n === 1 || n % 20 === 0) log.warn({ failures: n }, `log upload failed: ${e.message}`);
      },
    });
    this.shippers.add(shipper);
    let outcome: JobOutcome;
    try {
      const bundle = await bundleFetch;
      outcome = await this.runJobImpl({
        jobId: id,
        bundle: bundle as TJobBundle,
        workerDir: this.options.workerDir,
        workerName: this.options.name,
        sink: (r) => shipper.push(r),
        signal: ctrl.signal,
        ...(this.options.tftp ? { tftp: this.options.tftp } : {}),
        ...(this.options.maxDownloadBytes ? { maxDownloadBytes: this.options.maxDownloadBytes } : {}),
        ...(this.imageCache ? { imageCache: this.imageCache } : {}),
        ...(this.options.maxLogLines ? { maxLogLines: this.options.maxLogLines } : {}),
        ...(this.options.maxTestCases ? { maxTestCases: this.options.maxTestCases } : {}),
        multinode: (request, signal) => this.client.multinode(id, token, request, signal),
      });
    } catch (e) {
      const reason = ctrl.signal.aborted ? ctrl.signal.reason : e;
      const canceled = reason instanceof JobCanceled;
      const msg = canceled
        ? "The job was canceled"
        : reason instanceof InfrastructureError
          ? reason.message
          : `could not start job ${id}: ${(reason as Error).message}`;
      const ended = jobResult({ errorType: canceled ? "Canceled" : "Infrastructure", message: msg }, "");
      shipper.push({ dt: lavaNow(), lvl: "error", msg });
      shipper.push({ dt: lavaNow(), lvl: "results", msg: ended.record });
      outcome = ended.outcome;
    }
    log.info({ result: outcome.result, error_type: outcome.error_type }, "job ended; flushing logs");
    await reportedRunning;
    try {
      await shipper.close(Date.now() + LOG_FLUSH_DEADLINE_MS);
    } catch (e) {
      log.error(`${(e as Error).message}; reporting FINISHED anyway`);
      shipper.abandon();
    }
    this.shippers.delete(shipper);
    this.running.delete(id);
    await this.report(job, { state: "FINISHED", ...outcome });
    // the device is free: long-poll for its next job now (once per job this daemon ran, so a
    // misbehaving instance that keeps listing finished jobs cannot make the loop spin)
    this.pingNow.abort();
  }

  /** Retries `fn` on transient errors (1 s, 2 s … 10 s) for {@link START_DEADLINE_MS}. */
  private async withRetries<T>(log: Logger, what: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        const transient = e instanceof InstanceHttpError && e.transient;
        if (!transient || Date.now() >= deadline) throw e;
        if (attempt === 1) log.warn(`${what} failed: ${(e as Error).message}; retrying`);
        await pause(Math.min(10_000, 1000 * attempt), signal);
      }
    }
  }

  /**
   * Sends a FINISHED report until the instance answers 2xx (backoff 1 s doubling to 30 s), then drops
   * the job from the journal. A 4xx other than 409/429 cannot succeed by retrying: it is logged and
   * the job dropped. Stops trying at shutdown's hard deadline (the journal keeps the job).
   */
  private report(job: TPingJob, update: TJobStateUpdate & { state: "FINISHED" }): Promise<void> {
    const existing = this.finishing.get(job.id);
    if (existing) return existing;
    const log = this.log.child({ jobId: job.id });
    const p = (async () => {
      for (let attempt = 1; !this.hardStop.signal.aborted; attempt++) {
        try {
          await this.client.postState(job.id, job.token, update, this.hardStop.signal);
          log.info({ result: update.result, error_type: update.error_type }, "FINISHED acknowledged");
          await this.journal.remove(job.id);
          return;
        } catch (e) {
          if (this.hardStop.signal.aborted) break;
          if (e instanceof InstanceHttpError && !e.transient && e.status !== 409) {
            log.error(`FINISHED refused, giving up: ${e.message}`);
            await this.journal.remove(job.id);
            return;
          }
          if (attempt === 1 || attempt % 10 === 0)
            log.warn({ attempts: attempt }, `FINISHED not acknowledged: ${(e as Error).message}; retrying`);
          await pause(Math.min(MAX_FINISH_BACKOFF_MS, 1000 * 2 ** Math.min(attempt - 1, 5)), this.hardStop.signal);
        }
      }
      log.warn("shutting down before FINISHED was acknowledged; the journal keeps the job");
    })().finally(() => this.finishing.delete(job.id));
    this.finishing.set(job.id, p);
    return p;
  }

  /**
   * Graceful shutdown: stops pinging, aborts running jobs (InfrastructureError: the worker shut down;
   * each job powers its DUT off, flushes its logs and reports FINISHED), waits for the reports up to
   * `graceMs`, then gives up on unacknowledged ones (they stay in the journal).
   */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopCtrl.abort();
    for (const [id, r] of this.running) {
      r.ctrl.abort(new InfrastructureError(`worker ${this.options.name} shut down while job ${id} was running`));
    }
    const all = Promise.all([this.loop, ...[...this.running.values()].map((r) => r.done), ...this.finishing.values()]);
    const timer = setTimeout(() => this.hardStop.abort(), graceMs);
    await all;
    // reports started while the jobs wound down
    await Promise.all([...this.finishing.values()]);
    clearTimeout(timer);
    this.hardStop.abort();
    this.client.close();
  }
}
