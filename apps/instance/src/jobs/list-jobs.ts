import { JOB_HEALTHS, JOB_STATES, type TJobHealth, type TJobState, type TJobSummary, type TPage } from "@magma/protocol";
import { JOB_ORDER_COLUMNS, listJobSummaries, type InstanceDb, type TInstanceViewer } from "@magma/db/instance";
import { AppError } from "../app-error.ts";

export interface ListJobsFilter {
  limit: number;
  offset: number;
  /** state names, LAVA `state=` or `state__in=` */
  states?: string[];
  healths?: string[];
  requestedDeviceType?: string;
  /** any of these device types (LAVA XML-RPC `jobs.queue(device_types)`) */
  requestedDeviceTypes?: string[];
  /** only jobs whose end_time is at or after this instant (LAVA XML-RPC `jobs.list(since=N minutes)`) */
  endedAfter?: Date;
  /** `id`, `-id`, `submit_time`, `-submit_time`, `end_time`, `-end_time`, `priority`, `-priority` */
  ordering?: string;
}

/**
 * Lists jobs the user may see (the visibility policy, applied by the repository), newest first
 * unless `ordering` says otherwise, as a DRF LimitOffset page; `buildUrl` makes `next`/`previous`
 * links. The read and its count cache are `listJobSummaries` (packages/db instance repositories):
 * a count of 10 000 rows or more may lag by a few seconds, which only moves the last page's `next`
 * link; a page shorter than `limit` always gives the exact total.
 * @throws AppError INVALID_REQUEST naming the bad filter value (`state 'Done' is not one of …`)
 */
export async function listJobs(
  db: InstanceDb,
  user: TInstanceViewer | null,
  f: ListJobsFilter,
  buildUrl: (offset: number) => string,
): Promise<TPage<TJobSummary>> {
  for (const s of f.states ?? [])
    if (!(JOB_STATES as readonly string[]).includes(s))
      throw new AppError("INVALID_REQUEST", `state '${s}' is not one of ${JOB_STATES.join(", ")}`);
  for (const h of f.healths ?? [])
    if (!(JOB_HEALTHS as readonly string[]).includes(h))
      throw new AppError("INVALID_REQUEST", `health '${h}' is not one of ${JOB_HEALTHS.join(", ")}`);
  const ordering = f.ordering ?? "-id";
  if (!JOB_ORDER_COLUMNS[ordering.replace(/^-/, "")])
    throw new AppError(
      "INVALID_REQUEST",
      `ordering '${ordering}' is not one of ${Object.keys(JOB_ORDER_COLUMNS).join(", ")} (prefix - for descending)`,
    );
  const page = await listJobSummaries(db, user, {
    limit: f.limit,
    offset: f.offset,
    states: f.states as TJobState[] | undefined,
    healths: f.healths as TJobHealth[] | undefined,
    requestedDeviceType: f.requestedDeviceType,
    requestedDeviceTypes: f.requestedDeviceTypes,
    endedAfter: f.endedAfter,
    ordering,
  });
  return {
    count: page.count,
    next: f.offset + f.limit < page.count ? buildUrl(f.offset + f.limit) : null,
    previous: f.offset > 0 ? buildUrl(Math.max(0, f.offset - f.limit)) : null,
    results: page.results,
  };
}
