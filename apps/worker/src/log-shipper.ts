import { MAX_LOG_MSG_CHARS, type TLogRecord } from "@magma/protocol";
import type { InstanceClient } from "./daemon/instance-client.ts";

/** Most records per POST (LAVA's JobOutputSender sends at most 1000). */
export const MAX_BATCH_LINES = 1000;
/** Longest wait before queued records are sent, in ms (LAVA: 5 s; Magma keeps live logs fast). */
export const FLUSH_INTERVAL_MS = 100;
const TRUNCATED_MARK = " [truncated by magma]";

/**
 * Makes a log message safe to store and readable: C0 control characters (except tab and newline),
 * DEL and C1 controls become `\xNN`, so an ANSI sequence such as ESC[6n reads `\x1b[6n`; lone
 * UTF-16 surrogates (invalid UTF-8 on the wire) become U+FFFD; the text is cut to
 * {@link MAX_LOG_MSG_CHARS} characters with a marker.
 */
export function sanitizeLogMessage(msg: string): string {
  let out = msg
    // eslint-disable-next-line no-control-regex -- control bytes from the DUT are escaped on purpose
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
  if (out.length > MAX_LOG_MSG_CHARS) out = out.slice(0, MAX_LOG_MSG_CHARS - TRUNCATED_MARK.length) + TRUNCATED_MARK;
  return out;
}

export interface LogShipperOptions {
  /** The worker's client of its instance; batches go out with its `uploadLogs` (30 s per POST). */
  client: Pick<InstanceClient, "uploadLogs">;
  jobId: number;
  /** The job token (LAVA-Token header). */
  token: string;
  /** Called on each failed POST with the count of consecutive failures (for the daemon's logger). */
  onError?: (error: Error, failures: number) => void;
  flushIntervalMs?: number;
}

/**
 * Uploads a job's log records to the instance, LAVA's JobOutputSender with the protocol's
 * `ZLogUpload`: records queue in memory and are POSTed as `{index, lines}` to
 * `/scheduler/internal/v1/jobs/<id>/logs/` through the worker's {@link InstanceClient}
 * (`uploadLogs`) at most every {@link FLUSH_INTERVAL_MS} (or at once at
 * {@link MAX_BATCH_LINES}); the answer's `line_count` is how many lines the instance consumed: exactly
 * that many are dropped and `index` advances by it, so a retried batch is stored exactly once.
 * A failed POST (network error, non-2xx, bad body) keeps the records and is retried with backoff
 * (200 ms doubling to 5 s). One POST is in flight at a time.
 */
export class LogShipper {
  private readonly queue: TLogRecord[] = [];
  private index = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private readonly flushIntervalMs: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: LogShipperOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  }

  /** Lines acknowledged by the instance so far. */
  get acknowledged(): number {
    return this.index;
  }

  /** Lines still waiting for an acknowledgement. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues one record (string messages are sanitised with {@link sanitizeLogMessage}). */
  push(record: TLogRecord): void {
    if (this.closed) throw new Error(`log shipper of job ${this.options.jobId} is closed`);
    this.queue.push(typeof record.msg === "string" ? { ...record, msg: sanitizeLogMessage(record.msg) } : record);
    this.schedule(this.queue.length >= MAX_BATCH_LINES ? 0 : this.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.inFlight) return; // the in-flight POST reschedules when it settles
    const wait = Math.max(delayMs, this.retryAt - Date.now(), 0);
    if (this.timer) {
      if (wait > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.postOnce().finally(() => {
        this.inFlight = undefined;
        if (this.queue.length) this.schedule(this.queue.length >= MAX_BATCH_LINES ? 0 : this.flushIntervalMs);
        else for (const w of this.idleWaiters.splice(0)) w();
      });
    }, wait);
  }

  private async postOnce(): Promise<void> {
    const lines = this.queue.slice(0, MAX_BATCH_LINES);
    if (!lines.length) return;
    try {
      const { line_count } = await this.options.client.uploadLogs(this.options.jobId, this.options.token, { index: this.index, lines });
      const consumed = Math.min(line_count, lines.length);
      this.queue.splice(0, consumed);
      this.index += consumed;
      this.failures = 0;
      this.retryAt = 0;
    } catch (e) {
      this.failures++;
      this.retryAt = Date.now() + Math.min(5000, 200 * 2 ** Math.min(this.failures - 1, 5));
      this.options.onError?.(e instanceof Error ? e : new Error(String(e)), this.failures);
    }
  }

  /**
   * Stops accepting records and resolves once every queued record is acknowledged.
   * @param deadlineMs absolute time (epoch ms) after which it gives up.
   * @throws Error naming the number of unacknowledged lines when the deadline passes.
   */
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    while (this.queue.length || this.inFlight) {
      if (Date.now() >= deadlineMs) {
        throw new Error(
          `log upload of job ${this.options.jobId} incomplete: ${this.queue.length} line(s) not acknowledged by the deadline`,
        );
      }
      if (!this.inFlight) this.schedule(0);
      const idle = new Promise<void>((r) => this.idleWaiters.push(r));
      let t: NodeJS.Timeout | undefined;
      // wake up to re-check the deadline and to retry after a failed POST
      await Promise.race([idle, new Promise<void>((r) => (t = setTimeout(r, Math.min(500, Math.max(0, deadlineMs - Date.now())))))]);
      clearTimeout(t);
    }
    if (this.timer) clearTimeout(this.timer);
  }

  /** Drops pending records and timers without sending (process shutdown after close() failed). */
  abandon(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}
