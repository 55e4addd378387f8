import { listCasesAfter, type InstanceDb, type User } from "@magma/db/instance";
import type { TJobCasesPage } from "@magma/protocol";
import { getVisibleJob } from "../jobs/get-job.ts";
import { toLavaTestCaseExport } from "../results/test-case-dto.ts";

export interface ListJobCasesPageOptions {
  db: InstanceDb;
  /** the caller; null = anonymous (public jobs only) */
  user: User | null;
  jobId: number;
  /** cases with an id above this (0 = from the first) */
  afterId: number;
  /** cases per page (1–5000) */
  limit: number;
}

/**
 * One keyset page of a job's test cases, in case-id order, as LAVA's results export (the items of
 * the notify `results` dataset): how the frontend pulls the results of a job too big for one
 * callback, page by page and resumably from the last case id it stored. Memory is bounded by
 * `limit` whatever the job's size.
 * @returns the cases and `next_after_id` (null when this page was the last)
 * @throws AppError NOT_FOUND `Job N not found` (unknown or invisible job)
 */
export async function listJobCasesPage({ db, user, jobId, afterId, limit }: ListJobCasesPageOptions): Promise<TJobCasesPage> {
  await getVisibleJob(db, jobId, user);
  const cases = await listCasesAfter(db, jobId, afterId, limit);
  const last = cases.at(-1);
  return { results: cases.map(toLavaTestCaseExport), next_after_id: last && cases.length === limit ? last.id : null };
}
