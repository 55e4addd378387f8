import { JOB_HEALTHS, JOB_STATES, type TJobSummary, type TPage } from "@magma/protocol";
import { Prisma, type InstanceDb, type User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { visibleJobsCondition } from "../auth/job-visibility.ts";

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

const ORDER_COLUMNS: Record<string, string> = {
  id: "id",
  submit_time: "submit_time",
  start_time: "start_time",
  end_time: "end_time",
  priority: "priority",
};

/**
 * A count at or above this many rows is cached per filter for {@link COUNT_FRESH_MS}; smaller
 * counts are always exact (counting them is cheap).
 */
export const COUNT_CACHE_MIN_ROWS = 10_000;
/** How long a cached large count is served as is; after that it is served once more while refreshed. */
export const COUNT_FRESH_MS = 5_000;
/** A cached count older than this is not served: the request counts exactly. */
const COUNT_MAX_AGE_MS = 60_000;
const COUNT_CACHE_MAX_KEYS = 256;

/** the columns a summary needs: never the definitions */
const SUMMARY_COLUMNS = Prisma.raw(
  ["id", "submitter_id", "description", "health_check", "requested_device_type_id", "tags", "actual_device_id", "submit_time", "start_time", "end_time", "state", "health", "priority", "visibility", "metadata", "failure_comment", "error_type"].map((c) => `j.${c}`).join(", "),
);

interface CachedCount {
  count: number;
  at: number;
  refreshing: boolean;
}
const countCaches = new WeakMap<InstanceDb, Map<string, CachedCount>>();

interface SummaryRow {
  id: number;
  submitter: string;
  description: string;
  health_check: boolean;
  requested_device_type: string;
  tags: string[];
  actual_device: string | null;
  submit_time: Date;
  start_time: Date | null;
  end_time: Date | null;
  state: TJobSummary["state"];
  health: TJobSummary["health"];
  priority: number;
  visibility: string;
  metadata: Record<string, string> | null;
  failure_comment: string | null;
  error_type: string | null;
}

/**
 * Lists jobs the user may see (public ones, plus own / all for superusers), newest first unless
 * `ordering` says otherwise, as a DRF LimitOffset page; `buildUrl` makes `next`/`previous` links.
 *
 * The page reads only the summary columns (never the two definitions) with the names joined in
 * one query. `count` is exact, except that a count of {@link COUNT_CACHE_MIN_ROWS} or more is
 * cached per filter and user scope: it may lag by up to {@link COUNT_FRESH_MS} (plus one refresh),
 * which only moves the last page's `next` link; a page shorter than `limit` always gives the exact
 * total (`offset + results`).
 * @throws AppError INVALID_REQUEST naming the bad filter value (`state 'Done' is not one of …`)
 */
export async function listJobs(db: InstanceDb, user: User | null, f: ListJobsFilter, buildUrl: (offset: number) => string): Promise<TPage<TJobSummary>> {
  for (const s of f.states ?? []) if (!(JOB_STATES as readonly string[]).includes(s)) throw new AppError("INVALID_REQUEST", `state '${s}' is not one of ${JOB_STATES.join(", ")}`);
  for (const h of f.healths ?? []) if (!(JOB_HEALTHS as readonly string[]).includes(h)) throw new AppError("INVALID_REQUEST", `health '${h}' is not one of ${JOB_HEALTHS.join(", ")}`);
  const ordering = f.ordering ?? "-id";
  const column = ORDER_COLUMNS[ordering.replace(/^-/, "")];
  if (!column) throw new AppError("INVALID_REQUEST", `ordering '${ordering}' is not one of ${Object.keys(ORDER_COLUMNS).join(", ")} (prefix - for descending)`);
  const dir = ordering.startsWith("-") ? "DESC" : "ASC";

  const conds: Prisma.Sql[] = [];
  if (f.states?.length) conds.push(Prisma.sql`j.state = ANY(${f.states}::"JobState"[])`);
  if (f.healths?.length) conds.push(Prisma.sql`j.health = ANY(${f.healths}::"JobHealth"[])`);
  if (f.requestedDeviceType) conds.push(Prisma.sql`j.requested_device_type_id IN (SELECT id FROM device_types WHERE name = ${f.requestedDeviceType})`);
  if (f.requestedDeviceTypes) conds.push(Prisma.sql`j.requested_device_type_id IN (SELECT id FROM device_types WHERE name = ANY(${f.requestedDeviceTypes}::text[]))`);
  if (f.endedAfter) conds.push(Prisma.sql`j.end_time >= ${f.endedAfter}`);
  if (!user?.isSuperuser) conds.push(visibleJobsCondition(user));
  const where = conds.length ? Prisma.sql`WHERE ${Prisma.join(conds, " AND ")}` : Prisma.empty;
  // the column and direction come from the fixed tables above, never from the request text
  const orderBy = Prisma.raw(`ORDER BY j.${column} ${dir}, j.id ${dir}`);

  const [count, rows] = await Promise.all([
    countJobs(db, where),
    db.$queryRaw<SummaryRow[]>`
      SELECT j.id, u.username AS submitter, j.description, j.health_check, dt.name AS requested_device_type, j.tags,
             d.hostname AS actual_device, j.submit_time, j.start_time, j.end_time, j.state::text AS state, j.health::text AS health,
             j.priority, j.visibility, j.metadata, j.failure_comment, j.error_type
      FROM (SELECT ${SUMMARY_COLUMNS} FROM test_jobs j ${where} ${orderBy} LIMIT ${f.limit} OFFSET ${f.offset}) j
      JOIN users u ON u.id = j.submitter_id
      JOIN device_types dt ON dt.id = j.requested_device_type_id
      LEFT JOIN devices d ON d.id = j.actual_device_id
      ${orderBy}`,
  ]);
  // a short page ends the list: its total is known exactly whatever the cache said
  const exact = rows.length < f.limit && (rows.length > 0 || f.offset === 0) ? f.offset + rows.length : Math.max(count, f.offset + rows.length);
  return {
    count: exact,
    next: f.offset + f.limit < exact ? buildUrl(f.offset + f.limit) : null,
    previous: f.offset > 0 ? buildUrl(Math.max(0, f.offset - f.limit)) : null,
    results: rows.map(toSummary),
  };
}

function toSummary(r: SummaryRow): TJobSummary {
  return {
    id: r.id,
    submitter: r.submitter,
    description: r.description,
    health_check: r.health_check,
    requested_device_type: r.requested_device_type,
    tags: r.tags,
    actual_device: r.actual_device,
    submit_time: r.submit_time.toISOString(),
    start_time: r.start_time?.toISOString() ?? null,
    end_time: r.end_time?.toISOString() ?? null,
    state: r.state,
    health: r.health,
    priority: r.priority,
    visibility: r.visibility,
    metadata: r.metadata ?? {},
    failure_comment: r.failure_comment,
    error_type: r.error_type,
  };
}

async function exactCount(db: InstanceDb, where: Prisma.Sql): Promise<number> {
  const r = await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM test_jobs j ${where}`;
  return r[0]?.n ?? 0;
}

/** The DRF `count`: exact, or a large count from the per-filter cache (see {@link listJobs}). */
async function countJobs(db: InstanceDb, where: Prisma.Sql): Promise<number> {
  let cache = countCaches.get(db);
  if (!cache) countCaches.set(db, (cache = new Map()));
  const key = `${where.sql}\u0000${JSON.stringify(where.values)}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < COUNT_MAX_AGE_MS) {
    if (now - hit.at >= COUNT_FRESH_MS && !hit.refreshing) {
      hit.refreshing = true;
      exactCount(db, where).then(
        (n) => remember(cache, key, n),
        () => cache.delete(key),
      );
    }
    return hit.count;
  }
  const n = await exactCount(db, where);
  remember(cache, key, n);
  return n;
}

function remember(cache: Map<string, CachedCount>, key: string, n: number): void {
  if (n < COUNT_CACHE_MIN_ROWS) {
    cache.delete(key);
    return;
  }
  if (!cache.has(key) && cache.size >= COUNT_CACHE_MAX_KEYS) cache.clear();
  cache.set(key, { count: n, at: Date.now(), refreshing: false });
}
