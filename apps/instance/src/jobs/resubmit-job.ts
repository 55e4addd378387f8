import type { User } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { getVisibleJob } from "./get-job.ts";
import { submitJob } from "./submit-job.ts";

/**
 * Resubmits a job, as LAVA's `scheduler.jobs.resubmit` and REST `jobs/<id>/resubmit/`: the job's
 * definition as originally submitted (comments kept) goes through {@link submitJob} again, submitted
 * by `user` (not the original submitter), so the new job is validated against today's schema and
 * device types exactly like a fresh submission.
 * @returns the new job's id
 * @throws AppError NOT_FOUND (unknown or invisible job), INVALID_JOB_DEFINITION (the old
 *   definition no longer validates, e.g. its device type was removed)
 */
export async function resubmitJob(ctx: InstanceContext, jobId: number, user: User): Promise<number> {
  const job = await getVisibleJob(ctx.db, jobId, user);
  const r = await submitJob({ ctx, submitter: user, text: job.originalDefinition });
  ctx.logger.info({ jobId, newJobId: r.jobIds[0], by: user.username }, "job resubmitted");
  return r.jobIds[0]!;
}
