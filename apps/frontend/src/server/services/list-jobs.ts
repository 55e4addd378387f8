import { listFederatedJobs, type FrontendDb, type TFederatedJob } from "@magma/db/frontend";
import type { z } from "zod";
import { decodeCursor, encodeCursor, type ZJobListQuery } from "./job-list-query.ts";

export interface ListJobsOptions {
  db: FrontendDb;
  query: z.output<typeof ZJobListQuery>;
}

/**
 * One page of federated jobs (newest first) with an opaque cursor for the next page.
 * @throws AppError INVALID_REQUEST for a cursor that was not produced by this function
 */
export async function listJobs({ db, query }: ListJobsOptions): Promise<{ results: TFederatedJob[]; nextCursor: string | null }> {
  const { limit, cursor, ...filter } = query;
  const page = await listFederatedJobs(db, filter, limit, cursor ? decodeCursor(cursor) : null);
  return { results: page.results, nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
}
