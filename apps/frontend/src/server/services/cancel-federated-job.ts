import {
  canViewFederatedJob,
  findInstanceByName,
  findJobForCancel,
  queueJobCancel,
  type FrontendDb,
  type TViewer,
} from "@magma/db/frontend";
import type { TCancelJobResponse } from "@magma/protocol";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { requireViewer } from "../auth/session.ts";
import { describeFetchError, LabHttpError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";

export interface CancelFederatedJobOptions {
  db: FrontendDb;
  lab: string;
  /** the lab's job id */
  jobId: number;
  /** who asks (null: anonymous, refused) */
  viewer: TViewer | null;
  /** deadline of the call to a reachable lab, ms */
  timeoutMs: number;
  log: Logger;
}

/**
 * Cancels a federated job, as LAVA's cancel (Submitted → Canceled, Scheduled/Running → Canceling →
 * Finished/Canceled); the frontend's copy of the job changes only through the lab's state pushes.
 * Allowed to the job's submitter (the lab's `submitter`, or the frontend user whose submission
 * became the job) and to superusers (the frontend's lab admins), as the labs' own `canChangeJob`.
 *  - a lab reached by URL is told at once (Magma REST `jobs/<id>/cancel/` acting as the submitter;
 *    LAVA's REST cancel through the LabClient);
 *  - an outbound-only lab gets the cancel on its next poll of its link (queued, re-sent until the lab
 *    acknowledges it, so a dropped connection loses nothing);
 *  - a Finished job is left alone (`status: "finished"`).
 * @throws AppError UNAUTHENTICATED (anonymous), NOT_FOUND (unknown lab, or a job the viewer may not
 *   read), FORBIDDEN (neither the submitter nor a superuser), UPSTREAM_UNAVAILABLE (the lab could not
 *   be told)
 */
export async function cancelFederatedJob({
  db,
  lab,
  jobId,
  viewer,
  timeoutMs,
  log,
}: CancelFederatedJobOptions): Promise<TCancelJobResponse> {
  const user = requireViewer(viewer, "cancel jobs");
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured` });
  const job = (await canViewFederatedJob(db, user, lab, jobId)) ? await findJobForCancel(db, instance.id, jobId, user.userId) : null;
  if (!job) throw new AppError("NOT_FOUND", { message: `Job ${jobId} of lab "${lab}" not found` });
  if (!user.isSuperuser && job.submitter !== user.username && !job.submittedByUser)
    throw new AppError("FORBIDDEN", {
      message: `Permission denied: "${user.username}" may not cancel job ${jobId} of lab "${lab}" (only its submitter "${job.submitter}" or a superuser)`,
    });
  if (job.state === "Finished") return { lab, id: jobId, status: "finished", message: `Job ${jobId} already finished: nothing to cancel` };
  const reachable = reachableLab(instance);
  if (!reachable) {
    await queueJobCancel(db, { instanceId: instance.id, remoteId: jobId, requestedBy: user.username });
    log.info({ lab, jobId, by: user.username }, "cancel queued for outbound lab");
    return { lab, id: jobId, status: "queued", message: `Cancel of job ${jobId} queued: lab "${lab}" receives it on its next poll` };
  }
  try {
    await labClientFor(reachable).cancel(jobId, { submitter: job.submitter, timeoutMs });
  } catch (e) {
    if (e instanceof LabHttpError && e.status === 404) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" has no job ${jobId}` });
    throw new AppError("UPSTREAM_UNAVAILABLE", {
      message: `Could not cancel job ${jobId} on lab "${lab}": ${describeFetchError(e, timeoutMs)}`,
      cause: e,
    });
  }
  log.info({ lab, jobId, by: user.username }, "cancel sent to lab");
  return { lab, id: jobId, status: "sent", message: "Job cancel signal sent." };
}
