import {
  canViewFederatedJob,
  findInstanceByName,
  linkLogProgress,
  readStoredLogLines,
  type FrontendDb,
  type TViewer,
} from "@magma/db/frontend";
import type { TLogLine } from "@magma/protocol";
import { AppError } from "../app-error.ts";
import { describeFetchError, LabHttpError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";

export interface GetJobLogOptions {
  db: FrontendDb;
  lab: string;
  jobId: number;
  /** First line number wanted (0-based). */
  start: number;
  timeoutMs: number;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/** Most lines answered per call from the stored log of an outbound lab's job (as an instance's log call). */
const STORED_LOG_MAX_LINES = 50_000;

/**
 * A job's log lines from `start` on, read from its lab (logs are not copied into the frontend),
 * only for a federated job the viewer may read: the lab token the frontend holds reads every job,
 * so the job's visibility is checked here first. An outbound-only lab cannot be read: its job's log
 * is the lines its link pushed (stored in the frontend), at most 50 000 per call.
 * @returns lines and `nextStart` (the line number to ask for next)
 * @throws AppError NOT_FOUND (unknown lab or job), UPSTREAM_UNAVAILABLE (lab unreachable)
 */
export async function getJobLog({
  db,
  lab,
  jobId,
  start,
  timeoutMs,
  viewer,
}: GetJobLogOptions): Promise<{ lines: TLogLine[]; nextStart: number }> {
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured` });
  if (!(await canViewFederatedJob(db, viewer, lab, jobId)))
    throw new AppError("NOT_FOUND", { message: `Job ${jobId} of lab "${lab}" not found` });
  const reachable = reachableLab(instance);
  if (!reachable) {
    const p = await linkLogProgress(db, instance.id, jobId);
    if (!p) throw new AppError("NOT_FOUND", { message: `Job ${jobId} of lab "${lab}" not found` });
    const lines = await readStoredLogLines(db, p.id, start, STORED_LOG_MAX_LINES);
    const last = lines[lines.length - 1];
    return { lines, nextStart: last ? last.line + 1 : start };
  }
  try {
    const lines = await labClientFor(reachable).jobLog(jobId, start, timeoutMs);
    const last = lines[lines.length - 1];
    return { lines, nextStart: last ? last.line + 1 : start };
  } catch (e) {
    if (e instanceof LabHttpError && e.status === 404)
      throw new AppError("NOT_FOUND", { message: `Lab "${lab}" has no log for job ${jobId}: ${e.message}` });
    throw new AppError("UPSTREAM_UNAVAILABLE", {
      message: `Could not read the log of job ${jobId} from lab "${lab}": ${describeFetchError(e, timeoutMs)}`,
      cause: e,
    });
  }
}
