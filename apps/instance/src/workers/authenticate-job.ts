import { findJobForWorker, type InstanceDb, type TJobForWorker } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { secretMatchesDigest } from "@magma/db/secrets";

/**
 * Checks the `LAVA-Token` of a job call (bundle, state, logs) against the digest of the job's token
 * (stored when a ping first handed the job out; constant-time comparison of the digests).
 * @throws AppError NOT_FOUND `Unknown job 'N'`, INVALID_REQUEST `Missing 'token'`,
 *   UNAUTHENTICATED `Invalid 'token'`
 */
export async function authenticateJob(db: InstanceDb, jobId: number, token: string | undefined): Promise<TJobForWorker> {
  const job = await findJobForWorker(db, jobId);
  if (!job) throw new AppError("NOT_FOUND", `Unknown job '${jobId}'`);
  if (!token) throw new AppError("INVALID_REQUEST", "Missing 'token'");
  if (job.tokenDigest === null || !secretMatchesDigest(token, job.tokenDigest)) throw new AppError("UNAUTHENTICATED", "Invalid 'token'");
  return job;
}
