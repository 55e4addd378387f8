import { MASKED, MIN_COPIED_SECRET_CHARS, type TLogLevel, type TLogRecord, type TResultMessage } from "@magma/protocol";
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
  private secrets: string[] = [];
  private maxLines = Infinity;
  private onLimit: ((message: string) => void) | undefined;
  private limitReached = false;
  constructor(private readonly sink: (record: TLogRecord) => void) {}

  /**
   * Caps the job log at `maxLines` records (`MAGMA_WORKER_MAX_LOG_LINES`): the record that reaches
   * it is followed by one error naming the limit and `onLimit(message)` (the job runner ends the
   * job Incomplete with it); from then on DUT output, typed input and debug records are dropped,
   * while the worker's own info/warning/error/results records (finalize, the job result) still go out.
   */
  limit(maxLines: number, onLimit: (message: string) => void): void {
    this.maxLines = maxLines;
    this.onLimit = onLimit;
  }

  /**
   * From now on, replaces each of `values` by `[MASKED]` in every record (DUT output, commands,
   * results), as LAVA masks a job's secrets in its log. Values shorter than
   * MIN_COPIED_SECRET_CHARS are not masked (masking "root" everywhere would garble the log).
   */
  mask(values: readonly string[]): void {
    this.secrets = [...new Set([...this.secrets, ...values.filter((v) => v.length >= MIN_COPIED_SECRET_CHARS)])].sort(
      (a, b) => b.length - a.length,
    );
  }

  private masked<T>(v: T): T {
    if (typeof v === "string") {
      let out: string = v;
      for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASKED);
      return out as T;
    }
    if (Array.isArray(v)) return v.map((x) => this.masked(x)) as T;
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.masked(x)])) as T;
    return v;
  }

  /** Writes one record and returns its line number. */
  record(lvl: TLogLevel, msg: string | Record<string, unknown>): number {
    if (this.limitReached && (lvl === "target" || lvl === "input" || lvl === "debug" || lvl === "event")) return this.lines - 1;
    if (!this.limitReached && this.lines >= this.maxLines) {
      this.limitReached = true;
      const message = `the job log reached ${this.maxLines} lines, the worker's limit (MAGMA_WORKER_MAX_LOG_LINES): DUT output is no longer logged`;
      this.write("error", message);
      this.onLimit?.(message);
      if (lvl === "target" || lvl === "input" || lvl === "debug" || lvl === "event") return this.lines - 1;
    }
    return this.write(lvl, msg);
  }

  private write(lvl: TLogLevel, msg: string | Record<string, unknown>): number {
    const line = this.lines++;
    const text = typeof msg === "string" ? sanitizeLogMessage(msg) : msg;
    this.sink({ dt: lavaNow(), lvl, msg: this.secrets.length ? this.masked(text) : text });
    return line;
  }
  /** Line number the next record will get. */
  get nextLine(): number {
    return this.lines;
  }
  debug(msg: string): number {
    return this.record("debug", msg);
  }
  info(msg: string): number {
    return this.record("info", msg);
  }
  warning(msg: string): number {
    return this.record("warning", msg);
  }
  error(msg: string): number {
    return this.record("error", msg);
  }
  exception(msg: string): number {
    return this.record("exception", msg);
  }
  target(msg: string): number {
    return this.record("target", msg);
  }
  input(msg: string): number {
    return this.record("input", msg);
  }
  event(msg: string): number {
    return this.record("event", msg);
  }
  results(msg: TResultMessage | Record<string, unknown>): number {
    return this.record("results", msg as Record<string, unknown>);
  }
}
