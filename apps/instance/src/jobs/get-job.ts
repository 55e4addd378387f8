import type { InstanceDb, User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { canViewJob } from "../auth/job-visibility.ts";
import { JOB_NAMES_INCLUDE, type JobWithNames } from "./job-dto.ts";

/**
 * Reads one job the user may see (the visibility policy of auth/job-visibility.ts).
 * @throws AppError NOT_FOUND `Job N not found` (also for a job the user may not see: no existence leak)
 */
export async function getVisibleJob(db: InstanceDb, jobId: number, user: User | null): Promise<JobWithNames> {
  const job = await db.testJob.findUnique({ where: { id: jobId }, include: JOB_NAMES_INCLUDE });
  if (!job || !(await canViewJob(db, job, user))) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  return job;
}
