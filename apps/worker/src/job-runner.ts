import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import {
  definitionSecretValues,
  formatDefinitionErrors,
  parseJobDefinition,
  timeoutToMs,
  ZDeviceDictionary,
  type TJobBundle,
  type TLogRecord,
} from "@magma/protocol";
import { ActionTimeoutError, ConfigurationError, JobCanceled, JobError, LavaError, toLavaError } from "./errors.ts";
import { JobLog } from "./dispatcher/job-log.ts";
import type { JobContext, MultinodeCall } from "./dispatcher/job.ts";
import { runAction, type Pipeline } from "./dispatcher/pipeline.ts";
import { buildPipeline } from "./dispatcher/parser.ts";
import { jobResult, type JobOutcome } from "./job-result.ts";
import { deadlineSignal, formatSeconds } from "./dispatcher/timeout.ts";
import type { ImageCache } from "./dispatcher/image-cache.ts";

/** Budget of the finalize stage (power off) when the job deadline has already passed, in ms. */
const FINALIZE_BUDGET_MS = 30_000;

export type { JobOutcome } from "./job-result.ts";

export interface RunJobOptions {
  jobId: number;
  bundle: Pick<TJobBundle, "definition" | "device">;
  /** Worker directory; the job works in `<workerDir>/jobs/<id>` (removed at the end). */
  workerDir: string;
  workerName: string;
  /** Receives every log record, in order (the log shipper's `push`). */
  sink: (record: TLogRecord) => void;
  /** Aborting cancels the job; the reason should be a LavaError (default: JobCanceled). */
  signal?: AbortSignal;
  /** Address DUTs reach the worker's TFTP server on (`{SERVER_IP}`), default 127.0.0.1; port 0 = a free port per job. */
  tftp?: { ip: string; port: number };
  /**
   * Where DUTs download the overlay over HTTP (`transfer_overlay`): `ip` in the URL, the server on
   * `bind` (default `ip`) and `port` (default 0, a free port per job). Default: the TFTP address —
   * a QEMU DUT on user networking reaches the host's 127.0.0.1 as 10.0.2.2.
   */
  overlayHttp?: { ip: string; bind?: string; port?: number };
  /** Largest image a deploy may download, in bytes (as downloaded and decompressed); default 8 GiB. */
  maxDownloadBytes?: number;
  /** The worker's image cache, shared by its jobs (none: every image is downloaded). */
  imageCache?: ImageCache;
  /** Most job log records (MAGMA_WORKER_MAX_LOG_LINES); past it the job ends Incomplete (JobError). Default: no limit. */
  maxLogLines?: number;
  /** Most test cases a job may report (MAGMA_WORKER_MAX_TEST_CASES); past it the test action fails (TestError). Default: no limit. */
  maxTestCases?: number;
  /** MultiNode coordination with the instance (the daemon binds it to the job's id and token). */
  multinode?: MultinodeCall;
}

/**
 * Runs one job as LAVA's lava-run does: parses the bundle's definition (`parseJobDefinition`) and
 * device dictionary (`ZDeviceDictionary`), builds the pipeline, validates it ("start: 0 validate",
 * checking image URLs), runs the actions under the job deadline (`timeouts.job`), always runs
 * `finalize` (power off), removes the job directory, and ends the log with the `lava.job` result.
 * Never throws: every failure is classified into the outcome's `error_type`.
 * @returns what to report as FINISHED.
 */
export async function runJob(options: RunJobOptions): Promise<JobOutcome> {
  const { jobId, bundle, workerDir, workerName } = options;
  const log = new JobLog(options.sink);
  const jobDir = path.join(workerDir, "jobs", String(jobId));
  let description = "";
  let failure: LavaError | undefined;
  let ctx: JobContext | undefined;
  let pipeline: Pipeline | undefined;
  const started = Date.now();
  // a job that floods its log is ended like a cancel, with the limit as the reason
  const limitCtrl = new AbortController();
  if (options.maxLogLines) log.limit(options.maxLogLines, (msg) => limitCtrl.abort(new JobError(msg)));
  log.info(`magma-worker ${workerName}, job ${jobId}`);
  try {
    const parsed = parseJobDefinition(bundle.definition);
    if (!parsed.ok) throw new JobError(formatDefinitionErrors(parsed.errors));
    // secrets, image headers and passwords never reach the job log
    log.mask(definitionSecretValues(parsed.raw));
    let device;
    try {
      device = ZDeviceDictionary.parse(parseYaml(bundle.device));
    } catch (e) {
      throw new ConfigurationError(`invalid device dictionary: ${(e as Error).message}`);
    }
    const definition = parsed.definition;
    const jobTimeoutMs = timeoutToMs(definition.timeouts.job);
    ctx = {
      jobId,
      jobDir,
      definition,
      device,
      log,
      images: new Map(),
      imageArgs: new Map(),
      lineListeners: new Set(),
      jobDeadlineMs: started + jobTimeoutMs,
      workerName,
      tftpBind: options.tftp ?? { ip: "127.0.0.1", port: 0 },
      ...(options.overlayHttp ? { overlayHttp: options.overlayHttp } : {}),
      ...(options.maxDownloadBytes ? { maxDownloadBytes: options.maxDownloadBytes } : {}),
      ...(options.imageCache ? { imageCache: options.imageCache } : {}),
      ...(options.multinode ? { multinode: options.multinode } : {}),
      ...(options.maxTestCases ? { caseBudget: { remaining: options.maxTestCases, max: options.maxTestCases } } : {}),
    };
    pipeline = buildPipeline(jobId, definition, device);
    description = stringify(pipeline.describe());
    await mkdir(jobDir, { recursive: true });

    log.info("start: 0 validate");
    log.info(`Start time: ${new Date(started).toISOString()} (UTC)`);
    const problems = await pipeline.validate(ctx);
    log.info(`validate duration: ${formatSeconds(Date.now() - started)}`);
    log.results({ definition: "lava", case: "validate", result: problems.length ? "fail" : "pass" });
    if (problems.length) throw new JobError(`Invalid job data: ${JSON.stringify(problems)}`);

    const cancel = AbortSignal.any([limitCtrl.signal, ...(options.signal ? [options.signal] : [])]);
    const { signal, dispose } = deadlineSignal(
      ctx.jobDeadlineMs,
      cancel,
      () => new ActionTimeoutError(`job timed out after ${Math.round(jobTimeoutMs / 1000)} seconds`),
    );
    try {
      let conn = undefined;
      for (const action of pipeline.actions.slice(0, -1)) conn = await runAction(action, ctx, conn, ctx.jobDeadlineMs, signal);
    } finally {
      dispose();
    }
  } catch (e) {
    failure = classify(e, options.signal);
  }
  if (ctx && pipeline) {
    if (failure) await pipeline.cleanup(ctx);
    const finalize = pipeline.actions.at(-1)!;
    const deadline = Math.max(ctx.jobDeadlineMs, Date.now() + FINALIZE_BUDGET_MS);
    try {
      await runAction(finalize, ctx, ctx.console, deadline, new AbortController().signal);
    } catch (e) {
      failure ??= toLavaError(e);
    }
  }
  log.info("Cleaning after the job");
  try {
    await rm(jobDir, { recursive: true, force: true });
    log.info(`Root tmp directory removed at ${jobDir}`);
  } catch (e) {
    log.warning(`could not remove ${jobDir}: ${(e as Error).message}`);
  }
  if (!failure) log.info("Job finished correctly");
  else log.error(failure instanceof JobCanceled ? `JobCanceled: ${failure.message}` : failure.errorHelp);
  const { record, outcome } = jobResult(failure, description);
  log.results(record);
  return outcome;
}

/** A failure after a cancel is the cancel (QEMU dying because we killed it is not the cause). */
function classify(e: unknown, cancel: AbortSignal | undefined): LavaError {
  if (cancel?.aborted) {
    const r = cancel.reason;
    return r instanceof LavaError ? r : new JobCanceled("The job was canceled");
  }
  return toLavaError(e);
}
