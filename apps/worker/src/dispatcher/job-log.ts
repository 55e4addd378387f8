import type { TLogLevel, TLogRecord, TResultMessage } from "@magma/protocol";
import { sanitizeLogMessage } from "../log-shipper.ts";

/** LAVA's record time: ISO 8601 in UTC without a zone suffix ("2026-11-23T06:55:15.451"). */
export function lavaNow(): string {
  return new Date().toISOString().replace(/Z$/, "");
}

/**
 * The job log as the dispatcher writes it: LAVA records `{dt, lvl, msg}` handed to a sink (the
 * log shipper, or an array in tests). Each record gets the next 0-based line number, which is what
 * `starttc`/`endtc` refer to (LAVA counts lines of output.yaml the same way).
 */
export class JobLog {
  private lines = 0;
  constructor(private readonly sink: (record: TLogRecord) => void) {}

  /** Writes one record and returns its line number. */
  record(lvl: TLogLevel, msg: string | Record<string, unknown>): number {
    const line = this.lines++;
    this.sink({ dt: lavaNow(), lvl, msg: typeof msg === "string" ? sanitizeLogMessage(msg) : msg });
    return line;
  }
  /** Line number the next record will get. */
  get nextLine(): number {
    return this.lines;
  }
  debug(msg: string): number { return this.record("debug", msg); }
  info(msg: string): number { return this.record("info", msg); }
  warning(msg: string): number { return this.record("warning", msg); }
  error(msg: string): number { return this.record("error", msg); }
  exception(msg: string): number { return this.record("exception", msg); }
  target(msg: string): number { return this.record("target", msg); }
  input(msg: string): number { return this.record("input", msg); }
  event(msg: string): number { return this.record("event", msg); }
  results(msg: TResultMessage | Record<string, unknown>): number { return this.record("results", msg as Record<string, unknown>); }
}
