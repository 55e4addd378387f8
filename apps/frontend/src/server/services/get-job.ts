import { getFederatedJob, type FrontendDb, type TFederatedJobDetail, type TViewer } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

export interface GetJobOptions {
  db: FrontendDb;
  lab: string;
  jobId: number;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/**
 * A federated job with its definition, suites and test cases.
 * @throws AppError NOT_FOUND `Job 12 of lab "lab-a" not found` — also for a job the viewer may not
 *   read, so its existence is not revealed (LAVA answers 404 too)
 */
export async function getJob({ db, lab, jobId, viewer }: GetJobOptions): Promise<TFederatedJobDetail> {
  const job = await getFederatedJob(db, viewer, lab, jobId);
  if (!job) throw new AppError("NOT_FOUND", { message: `Job ${jobId} of lab "${lab}" not found (no callback received for it yet?)` });
  return job;
}
