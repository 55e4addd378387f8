import type { InstanceDb, User } from "@magma/db/instance";
import { FEDERATION_INLINE_CASES, type TNotifyPayload } from "@magma/protocol";
import { getVisibleJob } from "../jobs/get-job.ts";
import { buildNotifyPayload } from "../notify/build-payload.ts";

export interface GetFederationPayloadOptions {
  db: InstanceDb;
  user: User | null;
  jobId: number;
  instanceName: string;
}

/**
 * What the federation callback of this job carries now (LAVA notify payload, dataset `results`: every
 * suite and case, no log, no token, plus the `magma` block), for the frontend's reconciliation pass,
 * which feeds it to the same idempotent ingest as a delivered callback. A job with more than
 * FEDERATION_INLINE_CASES cases comes without them (`magma.transfer`): they are paged (listJobCasesPage).
 * @throws AppError NOT_FOUND `Job N not found` (also for a job the caller may not see)
 */
export async function getFederationPayload({ db, user, jobId, instanceName }: GetFederationPayloadOptions): Promise<TNotifyPayload> {
  await getVisibleJob(db, jobId, user);
  return buildNotifyPayload({ db, jobId, dataset: "results", instanceName, inlineCasesLimit: FEDERATION_INLINE_CASES });
}
