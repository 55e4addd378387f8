import { canChangeJob, type User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { inTransaction, type InstanceContext } from "../context.ts";
import { getVisibleJob } from "./get-job.ts";
import { goStateCanceling } from "./job-transitions.ts";

/**
 * Cancels a job, as LAVA's `jobs/<id>/cancel/`: Submitted → Finished/Canceled at once; Scheduled or
 * Running → Canceling (the worker sees it in the next ping's `cancel`); Canceling/Finished unchanged.
 * Only the submitter or a superuser may cancel (the visibility policy's `canChangeJob`). A MultiNode
 * sub-job is canceled with every sub-job of its group, as LAVA's cancel does.
 * @returns the job's state after the call
 * @throws JobNotFound (unknown or invisible job), AppError FORBIDDEN (not the submitter)
 */
export async function cancelJob(ctx: InstanceContext, jobId: number, user: User): Promise<{ state: string; changed: boolean }> {
  const job = await getVisibleJob(ctx.db, jobId, user);
  if (!canChangeJob(job, user)) throw new AppError("FORBIDDEN", `Permission denied: user '${user.username}' cannot cancel job ${jobId}`);
  return cancelJobAs(ctx, jobId, user.username);
}

/**
 * The cancel itself ({@link cancelJob} without the permission check), for callers that decided who
 * may cancel elsewhere: the outbound lab link carries cancels the frontend allowed (its submitter or
 * a frontend superuser asked). Idempotent: a Canceling/Finished job is left unchanged.
 * @param by who asked, for the log
 * @returns the job's state after the call
 * @throws AppError NOT_FOUND (unknown job)
 */
export async function cancelJobAs(ctx: InstanceContext, jobId: number, by: string): Promise<{ state: string; changed: boolean }> {
  const found = await ctx.db.testJob.findUnique({ where: { id: jobId }, select: { targetGroup: true } });
  if (!found) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  const { targetGroup } = found;
  const r = await inTransaction(ctx, async (t) => {
    if (!targetGroup) return goStateCanceling(t, jobId);
    // MultiNode: canceling one sub-job cancels the whole group (LAVA's api cancel over target_group)
    const group = await t.tx.testJob.findMany({ where: { targetGroup }, select: { id: true }, orderBy: { id: "asc" } });
    let own: Awaited<ReturnType<typeof goStateCanceling>> | undefined;
    for (const { id } of group) {
      const res = await goStateCanceling(t, id);
      if (id === jobId) own = res;
    }
    return own ?? goStateCanceling(t, jobId);
  });
  if (r.changed) ctx.logger.info({ jobId, by, state: r.job.state, targetGroup }, "job canceled");
  return { state: r.job.state, changed: r.changed };
}

/**
 * Cancels several jobs, each on its own (LAVA 2025's REST `jobs/batch_cancel/`): a job the caller may
 * not see or change, or that does not exist, is listed as invalid instead of failing the batch.
 * @returns the ids a cancel signal was sent to and the invalid ones, in the order given
 */
export async function batchCancelJobs(
  ctx: InstanceContext,
  jobIds: number[],
  user: User,
): Promise<{ canceled: number[]; invalid: number[] }> {
  const canceled: number[] = [];
  const invalid: number[] = [];
  for (const id of jobIds) {
    try {
      await cancelJob(ctx, id, user);
      canceled.push(id);
    } catch (e) {
      if (e instanceof AppError && (e.code === "NOT_FOUND" || e.code === "FORBIDDEN")) invalid.push(id);
      else throw e;
    }
  }
  return { canceled, invalid };
}
