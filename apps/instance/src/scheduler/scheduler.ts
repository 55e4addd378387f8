import type { InstanceContext } from "../context.ts";
import { inTransaction } from "../context.ts";
import { directTransaction, txQuery } from "@magma/db/instance";
import { Effects, applyEffects } from "../effects.ts";
import type { Logger } from "../logger.ts";
import { checkWorkers } from "./check-workers.ts";
import { HEALTH_CHECK_CANDIDATES_SQL, healthCheckDue, scheduleHealthChecks, type CandidateRow } from "./schedule-health-checks.ts";
import { idleJobDeviceTypes, scheduleJobs } from "./schedule-jobs.ts";
import { WAITING_GROUPS_SQL, scheduleGroups } from "./schedule-groups.ts";

/** Safety-loop period, ms: catches anything an event missed and ages workers Offline. */
export const SCHEDULER_SAFETY_INTERVAL_MS = 5_000;

/**
 * One scheduling pass, LAVA's `schedule()`: health checks first, then MultiNode groups (all
 * sub-jobs at once or none), then jobs, in one transaction.
 * The usual pass — no health check due, no MultiNode group waiting — runs whole on the `pg` pool
 * ({@link directPass}): an idle instance never loads Prisma's query engine and a submission reaches
 * its device without it. Otherwise (or without a `pg` pool) the pass runs in a Prisma transaction,
 * where creating health-check jobs and starting groups live.
 * @returns counts of health checks and jobs scheduled, and the device types that still have a
 *   device able to take a job (Idle, schedulable) once the pass is done
 */
export async function schedule(ctx: InstanceContext): Promise<{ healthChecks: number; jobs: number; idleDeviceTypes: Set<number> }> {
  const logger = ctx.logger.child({ component: "scheduler" });
  const direct = await directPass(ctx, logger);
  if (direct) return direct;
  return inTransaction(ctx, async (t) => {
    const healthChecks = await scheduleHealthChecks(t, logger);
    const groups = await scheduleGroups(t, logger);
    const query = txQuery(t.tx);
    const jobs = groups + (await scheduleJobs({ query, effects: t.effects, federation: t.federation }, logger));
    const idleDeviceTypes = await idleJobDeviceTypes(query);
    return { healthChecks, jobs, idleDeviceTypes };
  });
}

/**
 * The pass on the `pg` pool (directTransaction): health-check candidates (locked) and whether one is
 * due, then waiting MultiNode groups; when neither has work, the jobs step ({@link scheduleJobs}) and
 * the idle device types run in the same transaction and its effects (worker wake-ups, outbox) are
 * applied after the commit.
 * @returns the pass's outcome; undefined when a health check is due or a group waits (rolled back:
 *   the caller runs the full pass) or there is no `pg` pool
 */
async function directPass(
  ctx: InstanceContext,
  logger: Logger,
): Promise<{ healthChecks: number; jobs: number; idleDeviceTypes: Set<number> } | undefined> {
  const effects = new Effects();
  const federation = ctx.config.federationCallbackUrl ? { url: ctx.config.federationCallbackUrl } : null;
  const result = await directTransaction(ctx.db, async (query) => {
    for (const d of await query<CandidateRow>("sched_hc_candidates", HEALTH_CHECK_CANDIDATES_SQL, [])) {
      if (await healthCheckDue(query, d)) return undefined;
    }
    if ((await query("sched_waiting_groups", WAITING_GROUPS_SQL, [])).length) return undefined;
    const jobs = await scheduleJobs({ query, effects, federation }, logger);
    return { healthChecks: 0, jobs, idleDeviceTypes: await idleJobDeviceTypes(query) };
  });
  if (result) applyEffects(effects, ctx);
  return result;
}

/**
 * Event-driven scheduler (LAVA's lava-scheduler with events on): `trigger()` is called on submit, on
 * job finished / device Idle and on worker Online; bursts coalesce — while a pass runs, further
 * triggers only mark that one more pass is needed. A 5 s safety loop marks silent workers Offline and
 * triggers a pass. Passes are safe to overlap across processes (row locks with SKIP LOCKED).
 *
 * A submission calls `trigger(deviceTypeId)`: when the last pass found no device of that type able
 * to take a job, no pass runs for it (a pass could not assign the job). Every event that can make a
 * device available (job finished, device Idle / health Good, worker Online, admin changes) calls
 * `trigger()` without a type, which always runs a pass and refreshes that knowledge; changes made
 * by another process are picked up by the safety loop's pass, as before. A submission that arrives
 * while a pass runs is judged by that pass's result (the pass may have read the queue before the
 * job was inserted), so it never waits for the safety loop when a device of its type is free.
 */
export class Scheduler {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** completed passes (for tests and metrics) */
  passes = 0;
  /** submissions that did not need a pass (no device of their type could take a job) */
  skipped = 0;
  /** device types with a device able to take a job after the last pass; null = not known */
  private idleTypes: Set<number> | null = null;
  /** device types of submissions that arrived while a pass was running */
  private readonly typesDuringPass = new Set<number>();

  constructor(private readonly ctx: InstanceContext) {}

  /**
   * Requests a pass as soon as possible; never throws, never waits.
   * @param deviceTypeId the device type of a new submission: no pass when the last one found no
   *   device of that type able to take a job
   */
  trigger(deviceTypeId?: number): void {
    if (this.stopped) return;
    if (this.running) {
      // the pass in flight may have read the queue before this job was inserted: decide after it
      if (deviceTypeId === undefined) this.again = true;
      else this.typesDuringPass.add(deviceTypeId);
      return;
    }
    if (deviceTypeId !== undefined && this.idleTypes && !this.idleTypes.has(deviceTypeId)) {
      this.skipped++;
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
        this.typesDuringPass.clear();
        try {
          const endTimer = this.ctx.metrics?.schedulerPass.startTimer();
          this.idleTypes = (await schedule(this.ctx)).idleDeviceTypes;
          endTimer?.();
          this.passes++;
        } catch (e) {
          this.idleTypes = null;
          if (!this.stopped) this.ctx.logger.error({ err: e }, "scheduling pass failed");
        }
        // jobs submitted while the pass ran: one more pass if their device type has a free device
        for (const t of this.typesDuringPass) {
          if (this.idleTypes === null || this.idleTypes.has(t)) this.again = true;
          else this.skipped++;
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = null;
    }
  }
}
