import { z } from "zod";

/** Log levels of a job log record (lava_common/log.py); `target` = DUT output, `input` = typed to the DUT. */
export const LOG_LEVELS = ["debug", "info", "warning", "error", "exception", "input", "target", "feedback", "results", "event"] as const;
export const ZLogLevel = z.enum(LOG_LEVELS);
export type TLogLevel = z.infer<typeof ZLogLevel>;

/** Longest `msg` kept for one record, in characters; longer DUT lines are cut and marked. */
export const MAX_LOG_MSG_CHARS = 16 * 1024;

/**
 * One job log record, LAVA's shape `{dt, lvl, msg}`: `dt` an ISO time (UTC, no zone, as LAVA writes
 * it), `msg` a string, an object for `results` records, or a list: LAVA's dispatcher logs some
 * values as lists (the kernel-messages patterns, for one) and lavacli prints them as Python lists.
 */
export const ZLogRecord = z.object({
  dt: z.string().min(1),
  lvl: ZLogLevel,
  msg: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
});
export type TLogRecord = z.infer<typeof ZLogRecord>;

/** A stored log line as read back from an instance: its 0-based line number and the record. */
export const ZLogLine = ZLogRecord.extend({ line: z.number().int().nonnegative() });
export type TLogLine = z.infer<typeof ZLogLine>;
