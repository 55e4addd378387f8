import { z } from "zod";
import { ZLogRecord } from "../log/log.ts";
import { ERROR_TYPES } from "../job-state.ts";

/**
 * Instance ⇄ worker protocol: LAVA's pull-based internal API (lava_scheduler_app/views.py
 * `internal_v1_*`), same URLs and header, JSON bodies instead of form encoding. The worker opens
 * every connection, so it works behind NAT.
 *
 *   GET  /scheduler/internal/v1/workers/<name>/?version=<v>&wait_ms=<ms>   LAVA-Token: <worker token>
 *        → TPingResponse. Long-poll: the instance answers at once when `start` or `cancel` is
 *          non-empty, else after at most wait_ms (≤ 25 000). Marks the worker Online.
 *   GET  /scheduler/internal/v1/jobs/<id>/                                  LAVA-Token: <job token>
 *        → TJobBundle
 *   POST /scheduler/internal/v1/jobs/<id>/                                  LAVA-Token: <job token>
 *        TJobStateUpdate → {}            idempotent: a repeated RUNNING/FINISHED is acknowledged again
 *   POST /scheduler/internal/v1/jobs/<id>/logs/                             LAVA-Token: <job token>
 *        TLogUpload → TLogUploadResponse  exactly-once by `index` (see below)
 */
export const WORKER_API_PREFIX = "/scheduler/internal/v1";
/** Header carrying the worker token (ping) or the job token (job calls), as in LAVA. */
export const WORKER_TOKEN_HEADER = "lava-token";
/** Longest long-poll a worker may ask for, in ms. */
export const MAX_PING_WAIT_MS = 25_000;
/** Worker → instance protocol version; a mismatch is answered 409, as LAVA does. */
export const WORKER_PROTOCOL_VERSION = "magma-1";

/** One job in a ping answer: id and the job token for the job calls. */
export const ZPingJob = z.object({ id: z.number().int().positive(), token: z.string().min(1) });
export type TPingJob = z.infer<typeof ZPingJob>;

/** Ping answer: jobs to start (Scheduled), jobs the instance believes Running, jobs to cancel (Canceling). */
export const ZPingResponse = z.object({
  start: z.array(ZPingJob),
  running: z.array(ZPingJob),
  cancel: z.array(ZPingJob),
});
export type TPingResponse = z.infer<typeof ZPingResponse>;

/** Job bundle: LAVA's five YAML strings (definition, rendered device dictionary, dispatcher, env, env-dut). */
export const ZJobBundle = z.object({
  definition: z.string(),
  device: z.string(),
  dispatcher: z.string().nullable(),
  env: z.string().nullable(),
  "env-dut": z.string().nullable(),
});
export type TJobBundle = z.infer<typeof ZJobBundle>;

/** State report: RUNNING once started; FINISHED with result pass|fail and the error class on failure. */
export const ZJobStateUpdate = z.discriminatedUnion("state", [
  z.object({ state: z.literal("RUNNING") }),
  z.object({
    state: z.literal("FINISHED"),
    result: z.enum(["pass", "fail"]),
    error_type: z.union([z.enum(ERROR_TYPES), z.literal("")]).default(""),
    errors: z.string().default(""),
    description: z.string().default(""),
  }),
]);
export type TJobStateUpdate = z.infer<typeof ZJobStateUpdate>;

/**
 * Log upload: `index` = how many lines the worker believes the instance stored; the instance skips
 * the `stored - index` leading lines it already has, appends the rest, and answers the number of
 * lines of this batch it consumed (LAVA's JobOutputSender / internal_v1_jobs_logs). The worker drops
 * exactly that many and advances `index`, so a retried batch is never stored twice.
 */
export const ZLogUpload = z.object({
  index: z.number().int().nonnegative(),
  lines: z.array(ZLogRecord).max(5000),
});
export type TLogUpload = z.infer<typeof ZLogUpload>;
export const ZLogUploadResponse = z.object({ line_count: z.number().int().nonnegative() });
export type TLogUploadResponse = z.infer<typeof ZLogUploadResponse>;
