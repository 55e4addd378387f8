import type { InstanceContext } from "../context.ts";
import { inTransaction } from "../context.ts";
import { checkWorkers } from "./check-workers.ts";
import { scheduleHealthChecks } from "./schedule-health-checks.ts";
import { scheduleJobs } from "./schedule-jobs.ts";

/** Safety-loop period, ms: catches anything an event missed and ages workers Offline. */
export const SCHEDULER_SAFETY_INTERVAL_MS = 5_000;

/**
 * One scheduling pass, LAVA's `schedule()`: health checks first, then jobs, in one transaction.
 * @returns counts of health checks and jobs scheduled
 */
export async function schedule(ctx: InstanceContext): Promise<{ healthChecks: number; jobs: number }> {
  const logger = ctx.logger.child({ component: "scheduler" });
  return inTransaction(ctx, async (t) => {
    const healthChecks = await scheduleHealthChecks(t, logger);
    const jobs = await scheduleJobs(t, logger);
    return { healthChecks, jobs };
  });
}

/**
 * Event-driven scheduler (LAVA's lava-scheduler with events on): `trigger()` is called on submit, on
 * job finished / device Idle and on worker Online; bursts coalesce — while a pass runs, further
 * triggers only mark that one more pass is needed. A 5 s safety loop marks silent workers Offline and
 * triggers a pass. Passes are safe to overlap across processes (row locks with SKIP LOCKED).
 */
export class Scheduler {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** completed passes (for tests and metrics) */
  passes = 0;

  constructor(private readonly ctx: InstanceContext) {}

  /** Requests a pass as soon as possible; never throws, never waits. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run();
  }

  /** Starts the safety loop and runs a first pass. */
  start(): void {
    this.timer = setInterval(() => void this.tick(), SCHEDULER_SAFETY_INTERVAL_MS);
    this.timer.unref();
    this.trigger();
  }

  /** Stops the loop; the promise resolves once the pass in flight (if any) finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    try {
      await checkWorkers(this.ctx.db, this.ctx.config.workerOfflineAfterMs, this.ctx.logger);
    } catch (e) {
      this.ctx.logger.error({ err: e }, "checking worker liveness failed");
    }
    this.trigger();
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        try {
          await schedule(this.ctx);
          this.passes++;
        } catch (e) {
          if (!this.stopped) this.ctx.logger.error({ err: e }, "scheduling pass failed");
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = null;
    }
  }
}
