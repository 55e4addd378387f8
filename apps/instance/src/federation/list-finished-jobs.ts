import { Prisma, type InstanceDb, type User } from "@magma/db/instance";
import type { TFinishedJobRef, TFinishedJobsCursor, TFinishedJobsPage } from "@magma/protocol";
import { AppError } from "../app-error.ts";
import { visibleJobsCondition, wireVisibility } from "../auth/job-visibility.ts";

export interface ListFinishedJobsOptions {
  db: InstanceDb;
  /** the caller; null = anonymous (public jobs only) */
  user: User | null;
  /** jobs strictly after this (end_time, id); null = from the first finished job */
  after: TFinishedJobsCursor | null;
  /** rows per page (1–1000) */
  limit: number;
}

/**
 * The reconciliation feed: finished jobs the caller may see, in (end_time, id) order, each with its
 * number of test cases and log lines, its `visibility` (wire form) and `submitter` (lab username), so the frontend can tell a missing or stale copy without
 * fetching results. Times are read as text with microseconds so the cursor is exact (a JS Date would
 * round to milliseconds and repeat or skip jobs at a page boundary).
 * Superusers (the frontend's API token) see every job; others what auth/job-visibility.ts allows.
 * @throws AppError INVALID_REQUEST when `since` is not a timestamp
 */
export async function listFinishedJobs({ db, user, after, limit }: ListFinishedJobsOptions): Promise<TFinishedJobsPage> {
  if (after && Number.isNaN(Date.parse(after.since))) throw new AppError("INVALID_REQUEST", `since '${after.since}' is not an ISO 8601 timestamp`);
  const cursor = after ? Prisma.sql`AND (j.end_time, j.id) > (${after.since}::timestamptz, ${after.after_id})` : Prisma.empty;
  const visible = user?.isSuperuser ? Prisma.empty : Prisma.sql`AND ${visibleJobsCondition(user)}`;
  const rows = await db.$queryRaw<{ id: number; end_time: string; health: string; test_case_count: number; log_line_count: number; visibility: string; submitter: string }[]>`
    SELECT j.id, to_char(j.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS end_time, j.health::text AS health,
           (SELECT count(*)::int FROM test_cases c WHERE c.job_id = j.id) AS test_case_count, j.log_line_count,
           j.visibility, (SELECT u.username FROM users u WHERE u.id = j.submitter_id) AS submitter
    FROM test_jobs j
    WHERE j.state = 'Finished' AND j.end_time IS NOT NULL ${cursor} ${visible}
    ORDER BY j.end_time, j.id
    LIMIT ${limit}`;
  const results = rows.map((r) => ({ ...r, health: r.health as TFinishedJobRef["health"], visibility: wireVisibility(r.visibility) }));
  const last = results.at(-1);
  return { results, next: last && results.length === limit ? { since: last.end_time, after_id: last.id } : null };
}
