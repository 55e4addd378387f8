import type { InstanceDb, User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { canViewJob, JOB_NAMES_INCLUDE, type JobWithNames } from "./job-dto.ts";

/**
 * Reads one job the user may see.
 * @throws AppError NOT_FOUND `Job N not found` (also for a job the user may not see: no existence leak)
 */
export async function getVisibleJob(db: InstanceDb, jobId: number, user: User | null): Promise<JobWithNames> {
  const job = await db.testJob.findUnique({ where: { id: jobId }, include: JOB_NAMES_INCLUDE });
  if (!job || !canViewJob(job, user)) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  return job;
}
