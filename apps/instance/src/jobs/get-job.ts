import type { TJobDetail } from "@magma/protocol";
import { findVisibleJob, type InstanceDb, type InstanceTx, type TInstanceViewer, type TJobWithDefinition } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { toJobDetail } from "./job-dto.ts";

/**
 * "This job does not exist, or the caller may not see it" (the same answer for both: no existence
 * leak). REST answers 404 `{code: NOT_FOUND, message: "Job N not found"}`; XML-RPC turns it into
 * LAVA's fault text `Job '<id>' was not found.` (see xmlrpc/scheduler-jobs.ts `rpcJob`).
 */
export class JobNotFound extends AppError {
  readonly jobId: number;
  constructor(jobId: number) {
    super("NOT_FOUND", `Job ${jobId} not found`);
    this.jobId = jobId;
  }
}

/**
 * Reads one job the caller may see (the repository applies the visibility policy,
 * packages/db/src/instance/repositories/job-visibility.ts).
 * @throws JobNotFound (unknown job, or one the caller may not see)
 */
export async function getVisibleJob(db: InstanceDb | InstanceTx, jobId: number, user: TInstanceViewer | null): Promise<TJobWithDefinition> {
  const job = await findVisibleJob(db, jobId, user);
  if (!job) throw new JobNotFound(jobId);
  return job;
}

/** REST `jobs/<id>/`: the job detail, definitions with secrets masked. @throws JobNotFound */
export async function getJobDetail(db: InstanceDb, jobId: number, user: TInstanceViewer | null): Promise<TJobDetail> {
  return toJobDetail(await getVisibleJob(db, jobId, user));
}

/** REST `jobs/<id>/metadata/`: `{metadata}`, the job's `metadata:` mapping. @throws JobNotFound */
export async function getJobMetadata(
  db: InstanceDb,
  jobId: number,
  user: TInstanceViewer | null,
): Promise<{ metadata: Record<string, string> }> {
  return { metadata: (await getVisibleJob(db, jobId, user)).metadata };
}
