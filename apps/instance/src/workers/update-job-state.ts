import type { TJobStateUpdate } from "@magma/protocol";
import { inTransaction, type InstanceContext } from "../context.ts";
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
