import { pino, type Logger } from "pino";

/** The process's one pino logger; services take child loggers bound to jobId / worker / requestId. */
export function createLogger(level: string, name = "magma-instance"): Logger {
  return pino({ name, level });
}
export type { Logger };
