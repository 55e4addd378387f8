import { resultsTrend, type FrontendDb, type TJobListFilter, type TResultTrendPoint, type TViewer } from "@magma/db/frontend";

export interface GetResultsTrendOptions {
  db: FrontendDb;
  /** "day"/"hour": per UTC day/hour over the last `days` days; "group": per value of `groupKey`, newest `limit` values. */
  by: "day" | "hour" | "group";
  groupKey: string;
  days?: number;
  limit?: number;
  filter: TJobListFilter;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/** Pass/fail/skip counts per lab over time (days) or over the newest metadata values (e.g. commits). */
export async function getResultsTrend({
  db,
  by,
  groupKey,
  days = 30,
  limit = 20,
  filter,
  viewer,
}: GetResultsTrendOptions): Promise<{ by: "day" | "hour" | "group"; points: TResultTrendPoint[] }> {
  if (by === "group" && !groupKey) return { by, points: [] };
  const points = await resultsTrend(db, viewer, by !== "group" ? { kind: by, days } : { kind: "group", groupKey, limit }, filter);
  return { by, points };
}
