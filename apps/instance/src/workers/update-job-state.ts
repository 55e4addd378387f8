import type { TJobStateUpdate } from "@magma/protocol";
import { directTransaction } from "@magma/db/instance";
import { inTransaction, type InstanceContext } from "../context.ts";
import { Effects, applyEffects } from "../effects.ts";
import { goStateFinished, goStateRunning } from "../jobs/job-transitions.ts";

/** error_type values LAVA treats as infrastructure errors (device health → Unknown). */
const INFRASTRUCTURE_ERRORS = new Set(["Infrastructure", "Bug", "Configuration"]);

/**
 * Applies a worker's state report, LAVA's `internal_v1_jobs` POST: RUNNING → go_state_running;
 * FINISHED → go_state_finished(Complete if result pass else Incomplete; Canceled if Canceling),
 * storing error_type and `errors` as failure_comment. Idempotent: a repeated report changes nothing
 * and is acknowledged again. Once a FINISHED is handled, no ping answer sent by this process lists
 * the job again, not even one whose database read came just before the commit (`Notifier.jobFinished`).
 * @returns whether the job changed state
 */
export async function updateJobState(ctx: InstanceContext, jobId: number, update: TJobStateUpdate): Promise<{ changed: boolean }> {
  const log = ctx.logger.child({ jobId });
  if (update.state === "RUNNING" && (await goStateRunningDirect(ctx, jobId))) {
    log.info({ state: "Running", health: "Unknown", errorType: null }, "job state changed");
    return { changed: true };
  }
  const r = await inTransaction(ctx, async (t) => {
    if (update.state === "RUNNING") return goStateRunning(t, jobId);
    const errorType = update.result === "pass" ? null : update.error_type || "Bug";
    return goStateFinished(t, jobId, {
      health: update.result === "pass" ? "Complete" : "Incomplete",
      errorType,
      failureComment: update.errors || null,
      infrastructureError: errorType !== null && INFRASTRUCTURE_ERRORS.has(errorType),
    });
  });
  if (r.changed) log.info({ state: r.job.state, health: r.job.health, errorType: r.job.errorType }, "job state changed");
  // before the acknowledgement: ping answers read before this commit no longer list the job
  if (r.job.state === "Finished") ctx.notifier.jobFinished(jobId);
  return { changed: r.changed };
}

/**
 * {@link goStateRunning} on the `pg` pool for the usual job, which fires nothing at Running: a
 * Scheduled job with no `notify:` block on an instance without a federation callback URL. Locks the
 * job (`FOR UPDATE`), sets Running with start_time now (this process's clock, as the Prisma path),
 * moves its device Reserved → Running, and after the commit wakes what `jobChanged` wakes — the same
 * writes as goStateRunning, with no callback or email to enqueue.
 * @returns true when the job went Running here; false when anything else holds (unknown job, not
 *   Scheduled, callbacks or emails due, no `pg` pool): rolled back, the caller runs goStateRunning
 */
async function goStateRunningDirect(ctx: InstanceContext, jobId: number): Promise<boolean> {
  if (ctx.config.federationCallbackUrl) return false;
  const effects = new Effects();
  const done = await directTransaction(ctx.db, async (query) => {
    const [job] = await query<{ state: string; actual_device_id: number | null; quiet: boolean }>(
      "job_running_lock",
      `SELECT state::text AS state, actual_device_id, (notify IS NULL OR jsonb_typeof(notify) = 'null') AS quiet
         FROM test_jobs WHERE id = $1 FOR UPDATE`,
      [jobId],
    );
    if (!job || job.state !== "Scheduled" || !job.quiet) return undefined;
    await query("job_running_set", `UPDATE test_jobs SET state = 'Running', start_time = $2::timestamptz WHERE id = $1`, [
      jobId,
      new Date().toISOString(),
    ]);
    if (job.actual_device_id !== null)
      await query("job_running_device", `UPDATE devices SET state = 'Running' WHERE id = $1 AND state = 'Reserved'`, [
        job.actual_device_id,
      ]);
    effects.jobChanged(jobId);
    return true;
  });
  if (!done) return false;
  applyEffects(effects, ctx);
  return true;
}
