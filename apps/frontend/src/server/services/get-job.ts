import { getFederatedJob, type FrontendDb, type TFederatedJobDetail } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

export interface GetJobOptions {
  db: FrontendDb;
  lab: string;
  jobId: number;
}

/**
 * A federated job with its definition, suites and test cases.
 * @throws AppError NOT_FOUND `Job 12 of lab "lab-a" not found`
 */
export async function getJob({ db, lab, jobId }: GetJobOptions): Promise<TFederatedJobDetail> {
  const job = await getFederatedJob(db, lab, jobId);
  if (!job) throw new AppError("NOT_FOUND", { message: `Job ${jobId} of lab "${lab}" not found (no callback received for it yet?)` });
  return job;
}
