import { listFederatedJobs, type FrontendDb, type TFederatedJob, type TViewer } from "@magma/db/frontend";
import type { z } from "zod";
import { decodeCursor, encodeCursor, type ZJobListQuery } from "./job-list-query.ts";

export interface ListJobsOptions {
  db: FrontendDb;
  query: z.output<typeof ZJobListQuery>;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/**
 * One page of federated jobs (newest first) with an opaque cursor for the next page.
 * @throws AppError INVALID_REQUEST for a cursor that was not produced by this function
 */
export async function listJobs({ db, query, viewer }: ListJobsOptions): Promise<{ results: TFederatedJob[]; nextCursor: string | null }> {
  const { limit, cursor, ...filter } = query;
  const page = await listFederatedJobs(db, viewer, filter, limit, cursor ? decodeCursor(cursor) : null);
  return { results: page.results, nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
}
