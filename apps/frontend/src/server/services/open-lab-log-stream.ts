import { canViewFederatedJob, findInstanceByName, type FrontendDb, type TViewer } from "@magma/db/frontend";
import { openStoredLogStream } from "./stored-log-stream.ts";
import { AppError } from "../app-error.ts";
import { describeFetchError, LabHttpError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";

export interface OpenLabLogStreamOptions {
  db: FrontendDb;
  lab: string;
  /** Job id as received in the URL (validated here). */
  jobId: string;
  /** Start line as received in the query string (validated here). */
  start: string;
  signal: AbortSignal;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/**
 * Opens the lab's SSE log stream of a job — only of a federated job the viewer may read (the
 * frontend's lab token would read any job, so the job's visibility is checked here first). For an
 * outbound-only lab (no URL) the stream is served from the log lines its link pushed, in the same
 * SSE format (stored-log-stream.ts).
 * @throws AppError INVALID_REQUEST (bad id/start), NOT_FOUND (lab or job), UPSTREAM_UNAVAILABLE
 */
export async function openLabLogStream({ db, lab, jobId, start, signal, viewer }: OpenLabLogStreamOptions): Promise<Response> {
  if (!/^\d{1,12}$/.test(jobId)) throw new AppError("INVALID_REQUEST", { message: `job id "${jobId}" is not a number` });
  if (!/^\d{1,12}$/.test(start)) throw new AppError("INVALID_REQUEST", { message: `start "${start}" is not a line number` });
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured` });
  if (!(await canViewFederatedJob(db, viewer, lab, Number(jobId))))
    throw new AppError("NOT_FOUND", { message: `Lab "${lab}" has no job ${jobId}` });
  const reachable = reachableLab(instance);
  if (!reachable)
    return new Response(openStoredLogStream({ db, instanceId: instance.id, remoteId: Number(jobId), start: Number(start), signal }));
  try {
    return await labClientFor(reachable).openLogStream(Number(jobId), Number(start), signal);
  } catch (e) {
    if (e instanceof LabHttpError && e.status === 404) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" has no job ${jobId}` });
    throw new AppError("UPSTREAM_UNAVAILABLE", {
      message: `Log stream of job ${jobId} on lab "${lab}" unavailable: ${describeFetchError(e)}`,
      cause: e,
    });
  }
}
