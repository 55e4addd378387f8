import { findVisibleJob, type TInstanceViewer, type TJobWithDefinition } from "@magma/db/instance";
import { AppError } from "../app-error.ts";

/**
 * Reads one job the caller may see (the repository applies the visibility policy,
 * packages/db/src/instance/repositories/job-visibility.ts).
 * @throws AppError NOT_FOUND `Job N not found` (also for a job the caller may not see: no existence leak)
 */
export async function getVisibleJob(db: Parameters<typeof findVisibleJob>[0], jobId: number, user: TInstanceViewer | null): Promise<TJobWithDefinition> {
  const job = await findVisibleJob(db, jobId, user);
  if (!job) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  return job;
}
