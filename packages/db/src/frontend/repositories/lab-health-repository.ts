import type { FrontendDb } from "../client.ts";
import type { TViewer } from "../dto.ts";
import { visibleJobsSql } from "./job-visibility.ts";

/** Finished jobs and those of them that ended Incomplete with error_type Infrastructure, over one window. */
export interface TInfraCount {
  finished: number;
  infrastructure: number;
}

/** Infrastructure-error counts of one lab and device type over the last 24 h and the last 7 days. */
export interface TInfraCountRow {
  lab: string;
  deviceType: string;
  day: TInfraCount;
  week: TInfraCount;
}

/** One bucket of the infrastructure-error history of one lab and device type. */
export interface TInfraHistoryRow {
  lab: string;
  deviceType: string;
  /** start of the bucket (UTC), ISO 8601 */
  bucket: string;
  finished: number;
  infrastructure: number;
}

/**
 * Per lab and device type, the finished jobs (by end time) of the last 24 h and of the last 7 days
 * before `now` and how many of them ended with error_type Infrastructure (LAVA's
 * InfrastructureError: the lab's fault, not the job's). Only jobs `viewer` may read are counted
 * (job-visibility.ts). Labs without finished jobs in the week are absent.
 */
export async function infraErrorCounts(db: FrontendDb, viewer: TViewer | null, now: Date): Promise<TInfraCountRow[]> {
  const dayAgo = new Date(now.getTime() - 24 * 3600_000);
  const weekAgo = new Date(now.getTime() - 7 * 24 * 3600_000);
  const rows = await db.$queryRaw<
    { lab: string; device_type: string; d_finished: number; d_infra: number; w_finished: number; w_infra: number }[]
  >`
    SELECT i.name AS lab, j.device_type,
           count(*) FILTER (WHERE j.end_time > ${dayAgo})::int AS d_finished,
           count(*) FILTER (WHERE j.end_time > ${dayAgo} AND j.error_type = 'Infrastructure')::int AS d_infra,
           count(*)::int AS w_finished,
           count(*) FILTER (WHERE j.error_type = 'Infrastructure')::int AS w_infra
    FROM federated_job j JOIN instance i ON i.id = j.instance_id
    WHERE j.state = 'Finished' AND j.end_time > ${weekAgo} AND j.end_time <= ${now} AND ${visibleJobsSql(viewer)}
    GROUP BY i.name, j.device_type
    ORDER BY i.name, j.device_type`;
  return rows.map((r) => ({
    lab: r.lab,
    deviceType: r.device_type,
    day: { finished: r.d_finished, infrastructure: r.d_infra },
    week: { finished: r.w_finished, infrastructure: r.w_infra },
  }));
}

/**
 * The infrastructure-error history of every lab and device type: finished and Infrastructure jobs
 * per `bucketHours` bucket (UTC, aligned on the epoch) over the last `days` days before `now`, only
 * buckets with finished jobs; jobs `viewer` may read. Ordered by lab, device type, bucket; callers
 * sum the rows per lab or per device type.
 */
export async function infraErrorHistory(
  db: FrontendDb,
  viewer: TViewer | null,
  now: Date,
  days: number,
  bucketHours: number,
): Promise<TInfraHistoryRow[]> {
  const since = new Date(now.getTime() - days * 24 * 3600_000);
  const seconds = bucketHours * 3600;
  const rows = await db.$queryRaw<{ lab: string; device_type: string; bucket: Date; finished: number; infra: number }[]>`
    SELECT i.name AS lab, j.device_type,
           to_timestamp(floor(extract(epoch FROM j.end_time) / ${seconds}) * ${seconds}) AS bucket,
           count(*)::int AS finished,
           count(*) FILTER (WHERE j.error_type = 'Infrastructure')::int AS infra
    FROM federated_job j JOIN instance i ON i.id = j.instance_id
    WHERE j.state = 'Finished' AND j.end_time > ${since} AND j.end_time <= ${now} AND ${visibleJobsSql(viewer)}
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3`;
  return rows.map((r) => ({
    lab: r.lab,
    deviceType: r.device_type,
    bucket: r.bucket.toISOString(),
    finished: r.finished,
    infrastructure: r.infra,
  }));
}

/** Last time each lab was heard from (callback, outbound connection or poll), by lab name; null: never. */
export async function labLastContacts(db: FrontendDb): Promise<Map<string, Date | null>> {
  const rows = await db.instance.findMany({ select: { name: true, last_contact_at: true } });
  return new Map(rows.map((r) => [r.name, r.last_contact_at]));
}
