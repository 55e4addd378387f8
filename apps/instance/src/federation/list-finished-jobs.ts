import { listFinishedJobRows, wireVisibility, type InstanceDb, type TInstanceViewer } from "@magma/db/instance";
import type { TFinishedJobsCursor, TFinishedJobsPage } from "@magma/protocol";
import { AppError } from "../app-error.ts";

export interface ListFinishedJobsOptions {
  db: InstanceDb;
  /** the caller; null = anonymous (public jobs only) */
  user: TInstanceViewer | null;
  /** jobs strictly after this (end_time, id); null = from the first finished job */
  after: TFinishedJobsCursor | null;
  /** rows per page (1–1000) */
  limit: number;
}

/**
 * The reconciliation feed: finished jobs the caller may see, in (end_time, id) order, each with its
 * number of test cases and log lines, its `visibility` (wire form) and `submitter` (lab username),
 * so the frontend can tell a missing or stale copy without fetching results; the cursor is exact to
 * the microsecond (`listFinishedJobRows` in packages/db, which applies the visibility policy).
 * Superusers (the frontend's API token) see every job.
 * @throws AppError INVALID_REQUEST when `since` is not a timestamp
 */
export async function listFinishedJobs({ db, user, after, limit }: ListFinishedJobsOptions): Promise<TFinishedJobsPage> {
  if (after && Number.isNaN(Date.parse(after.since)))
    throw new AppError("INVALID_REQUEST", `since '${after.since}' is not an ISO 8601 timestamp`);
  const rows = await listFinishedJobRows(db, user, after ? { since: after.since, afterId: after.after_id } : null, limit);
  const results = rows.map((r) => ({ ...r, visibility: wireVisibility(r.visibility) }));
  const last = results.at(-1);
  return { results, next: last && results.length === limit ? { since: last.end_time, after_id: last.id } : null };
}
