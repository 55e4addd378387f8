import type { TJobHealth } from "@magma/protocol";
import { Prisma } from "../../generated/instance/client";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TFinishedJobRow, TInstanceViewer } from "../dto.ts";
import { visibleJobsCondition } from "./job-visibility.ts";

/**
 * The reconciliation feed: finished jobs `viewer` may see (job-visibility.ts; superusers every job),
 * in (end_time, id) order after the cursor, each with its number of test cases and log lines, its
 * stored visibility and its submitter's name. Times are read as text with microseconds so the
 * cursor is exact (a JS Date would round to milliseconds and repeat or skip jobs at a page boundary).
 * @param after jobs strictly after this (end_time as an ISO 8601 timestamp, id); null = from the first
 * @param limit rows per page
 * @throws Error from PostgreSQL when `after.since` is not a timestamp (callers validate first)
 */
export async function listFinishedJobRows(
  db: InstanceDb | InstanceTx,
  viewer: TInstanceViewer | null,
  after: { since: string; afterId: number } | null,
  limit: number,
): Promise<TFinishedJobRow[]> {
  const cursor = after ? Prisma.sql`AND (j.end_time, j.id) > (${after.since}::timestamptz, ${after.afterId})` : Prisma.empty;
  const visible = viewer?.isSuperuser ? Prisma.empty : Prisma.sql`AND ${visibleJobsCondition(viewer)}`;
  const rows = await db.$queryRaw<(Omit<TFinishedJobRow, "health"> & { health: string })[]>`
    SELECT j.id, to_char(j.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS end_time, j.health::text AS health,
           (SELECT count(*)::int FROM test_cases c WHERE c.job_id = j.id) AS test_case_count, j.log_line_count,
           j.visibility, (SELECT u.username FROM users u WHERE u.id = j.submitter_id) AS submitter
    FROM test_jobs j
    WHERE j.state = 'Finished' AND j.end_time IS NOT NULL ${cursor} ${visible}
    ORDER BY j.end_time, j.id
    LIMIT ${limit}`;
  return rows.map((r) => ({ ...r, health: r.health as TJobHealth }));
}
