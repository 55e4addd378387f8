import type { InstanceContext } from "../context.ts";

/** Failed push backoff: first delay, ms. */
export const PUSH_BACKOFF_BASE_MS = 500;
/** Failed push backoff: cap, ms. */
export const PUSH_BACKOFF_MAX_MS = 15_000;

/**
 * Exponential backoff without jitter: `baseMs` after the first failure, doubled after each further
 * one, never more than `maxMs`.
 * @param failures consecutive failures so far (1 for the first)
 * @param baseMs first delay, ms
 * @param maxMs cap, ms
 * @returns the delay before the next attempt, ms
 */
export function backoffDelayMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (failures - 1));
}

/**
 * The push loop shared by the outbound link's pushers ({@link LinkLogPusher}, {@link LinkCasesPusher}):
 * calls {@link LinkPusher.pushOnce} again at once while it answers that more is due, otherwise after
 * `intervalMs` or as soon as {@link LinkPusher.wakeUp} is called (a poll listed new work). A failed push
 * is logged (warn, "`<what>` push failed, retrying") and tried again after {@link backoffDelayMs}
 * ({@link PUSH_BACKOFF_BASE_MS} doubling up to {@link PUSH_BACKOFF_MAX_MS}); the backoff is reset by the
 * next push that succeeds. The subclass keeps its resume points and moves them only from the
 * frontend's answers, so a push retried here is never stored twice. {@link LinkPusher.stop} ends the
 * loop after the push in flight (finished or failed); a wait in progress ends at once.
 */
export abstract class LinkPusher {
  private stopped = false;
  private loopPromise: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  /**
   * @param ctx the instance (its logger reports failed pushes)
   * @param intervalMs wait between pushes when nothing more is due, ms
   * @param what what is pushed, for the log ("log", "cases")
   */
  protected constructor(
    protected readonly ctx: InstanceContext,
    private readonly intervalMs: number,
    private readonly what: string,
  ) {}

  /**
   * One push of whatever is due; throws on a failed push (the loop backs off and retries).
   * @returns true when more is due at once
   */
  abstract pushOnce(): Promise<boolean>;

  /** Starts the push loop (a second call does nothing). */
  start(): void {
    this.loopPromise ??= this.loop();
  }

  /** Stops the loop (a push in flight is finished or failed first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loopPromise;
  }

  /** Ends the current wait (between pushes or in a backoff) so that the next push starts now. */
  protected wakeUp(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let more = false;
      try {
        more = await this.pushOnce();
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        failures++;
        const delay = backoffDelayMs(failures, PUSH_BACKOFF_BASE_MS, PUSH_BACKOFF_MAX_MS);
        this.ctx.logger.warn({ err: (e as Error).message, failures, retryInMs: delay }, `${this.what} push failed, retrying`);
        if (!this.stopped) await this.sleep(delay);
        continue;
      }
      if (!more && !this.stopped) await this.sleep(this.intervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }
}
