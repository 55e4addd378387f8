import { pino, type Logger } from "pino";

/**
 * The process's one pino logger; services take child loggers bound to jobId / worker / requestId.
 * `sync: false` (the instance process) writes to stdout asynchronously: lines are queued while a
 * write is in flight and written together by the next one (sonic-boom, no minimum length, so a
 * line is written as soon as the previous write returns), instead of one blocking write(2) per
 * line on the request path; pino flushes what is queued when the process exits (also on
 * `process.exit` and uncaught errors; a SIGKILL can lose the last lines). `sync: true` (default,
 * tests and tools) writes each line before returning.
 */
export function createLogger(level: string, name = "magma-instance", opts: { sync?: boolean } = {}): Logger {
  if (opts.sync === false) return pino({ name, level }, pino.destination({ dest: 1, sync: false }));
  return pino({ name, level });
}
export type { Logger };
