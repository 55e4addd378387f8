import { EventEmitter } from "node:events";

/**
 * How long a handled FINISHED is remembered for filtering ping answers, ms: far longer than one
 * ping's database read, which is the only window in which an answer can predate the commit.
 */
export const RECENTLY_FINISHED_MS = 60_000;

/**
 * In-process wake-up signals (what LAVA does with ZMQ events), fired only after the transaction that
 * caused them committed:
 * - `worker:<hostname>` — a job was scheduled on, or a cancel hit, one of the worker's devices:
 *   a waiting long-poll ping answers at once;
 * - `job:<id>` — log lines were ingested or the job changed state: live log streams send more.
 * Listeners must be cheap; they re-read the database themselves.
 */
export class Notifier {
  private readonly emitter = new EventEmitter();
  /** job id → when its FINISHED was handled (ms), oldest first */
  private readonly finished = new Map<number, number>();

  constructor() {
    // every long-poll and every log stream holds one listener
    this.emitter.setMaxListeners(0);
  }

  /** Wakes the worker's pending ping, if any. */
  wakeWorker(hostname: string): void {
    this.emitter.emit(`worker:${hostname}`);
  }

  /** Subscribes to a worker's wake-ups; returns the unsubscribe function. */
  onWorker(hostname: string, fn: () => void): () => void {
    return this.on(`worker:${hostname}`, fn);
  }

  /** How many long-polls of this worker are waiting now (observability and tests). */
  waitingPings(hostname: string): number {
    return this.emitter.listenerCount(`worker:${hostname}`);
  }

  /** Signals that a job's log or state changed. */
  jobChanged(jobId: number): void {
    this.emitter.emit(`job:${jobId}`);
  }

  /**
   * Records that job `jobId`'s FINISHED report was handled (the job is Finished in the database),
   * before the worker gets its acknowledgement. Ping answers read before that commit are filtered
   * with {@link finishedRecently} when they are sent, so no ping answered after the acknowledgement
   * lists the job again (a worker would take the stale `cancel`/`running` entry for a job it does not
   * know and report FINISHED a second time). Entries are kept {@link RECENTLY_FINISHED_MS}.
   */
  jobFinished(jobId: number): void {
    const now = Date.now();
    for (const [id, at] of this.finished) {
      if (now - at < RECENTLY_FINISHED_MS) break;
      this.finished.delete(id);
    }
    this.finished.delete(jobId);
    this.finished.set(jobId, now);
  }

  /** Whether job `jobId`'s FINISHED was handled by this process in the last {@link RECENTLY_FINISHED_MS}. */
  finishedRecently(jobId: number): boolean {
    const at = this.finished.get(jobId);
    return at !== undefined && Date.now() - at < RECENTLY_FINISHED_MS;
  }

  /** Subscribes to a job's changes; returns the unsubscribe function. */
  onJob(jobId: number, fn: () => void): () => void {
    return this.on(`job:${jobId}`, fn);
  }

  private on(event: string, fn: () => void): () => void {
    this.emitter.on(event, fn);
    return () => this.emitter.off(event, fn);
  }
}

/**
 * Resolves after `ms`, or earlier when `wake` is subscribed-to and fires, or when `signal` aborts.
 * @returns "woken" | "timeout" | "aborted"
 */
export function waitFor(
  subscribe: (fn: () => void) => () => void,
  ms: number,
  signal?: AbortSignal,
): Promise<"woken" | "timeout" | "aborted"> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve("aborted");
    let done = false;
    const finish = (r: "woken" | "timeout" | "aborted") => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), Math.max(0, ms));
    const unsubscribe = subscribe(() => finish("woken"));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
