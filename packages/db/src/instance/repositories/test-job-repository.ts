import type { TJobState, TJobSummary } from "@magma/protocol";
import { Prisma } from "../../generated/instance/client";
import type { InstanceDb, InstanceTx } from "../client.ts";
import { directQuery, directSqlQuery } from "../direct-sql.ts";
import type { TInstanceViewer, TJobForWorker, TJobListFilter, TJobSummaryPage, TJobWithDefinition, TJobBrief } from "../dto.ts";
import { canViewJob, visibleJobsCondition } from "./job-visibility.ts";

/** Orderings a job list accepts (LAVA's DRF `ordering=`; prefix `-` for descending) → column. */
export const JOB_ORDER_COLUMNS: Readonly<Record<string, string>> = {
  id: "id",
  submit_time: "submit_time",
  start_time: "start_time",
  end_time: "end_time",
  priority: "priority",
};

/**
 * A count at or above this many rows is cached per filter for {@link COUNT_FRESH_MS}; smaller
 * counts are always exact (counting 1 000 index entries takes about 0.2 ms, 10 000 about 1.5 ms:
 * too much to pay on every page of a busy queue).
 */
export const COUNT_CACHE_MIN_ROWS = 1_000;
/** How long a cached large count is served as is; after that it is served once more while refreshed. */
export const COUNT_FRESH_MS = 5_000;
/** A cached count older than this is not served: the request counts exactly. */
const COUNT_MAX_AGE_MS = 60_000;
const COUNT_CACHE_MAX_KEYS = 256;

/** the columns a list row needs: never the two definitions */
const SUMMARY_COLUMNS = Prisma.raw(
  [
    "id",
    "submitter_id",
    "description",
    "health_check",
    "requested_device_type_id",
    "tags",
    "actual_device_id",
    "submit_time",
    "start_time",
    "end_time",
    "state",
    "health",
    "priority",
    "visibility",
    "metadata",
    "failure_comment",
    "error_type",
  ]
    .map((c) => `j.${c}`)
    .join(", "),
);

/**
 * `timestamptz` column `c` as a UTC `timestamp`, read as `Date#toISOString()` text by the query's
 * `isoTimestamps` (direct-sql.ts: slicing the text is cheaper than `to_char` in PostgreSQL or a Date per value)
 */
const isoText = (c: string) => `(${c} AT TIME ZONE 'UTC')`;

/**
 * The list row, built by PostgreSQL in the REST item's shape (protocol `ZJobSummary`): its field names
 * in its order, times as ISO 8601 text, metadata `{}` when none (SQL NULL or JSON null). The `pg` driver's row object
 * is then the item itself: no per-row Date objects, copies or renames in JavaScript.
 */
const SUMMARY_SELECT = Prisma.raw(
  [
    "j.id",
    "u.username AS submitter",
    "j.description",
    "j.health_check",
    "dt.name AS requested_device_type",
    "j.tags",
    "d.hostname AS actual_device",
    `${isoText("j.submit_time")} AS submit_time`,
    `${isoText("j.start_time")} AS start_time`,
    `${isoText("j.end_time")} AS end_time`,
    "j.state::text AS state",
    "j.health::text AS health",
    "j.priority",
    "j.visibility",
    // SQL NULL or a JSON null → {}
    "COALESCE(NULLIF(j.metadata, 'null'::jsonb), '{}'::jsonb) AS metadata",
    "j.failure_comment",
    "j.error_type",
  ].join(", "),
);

interface CachedCount {
  count: number;
  at: number;
  refreshing: boolean;
}
const countCaches = new WeakMap<InstanceDb, Map<string, CachedCount>>();

/**
 * One page of the jobs `viewer` may see (the visibility policy is part of the query), ordered by
 * `f.ordering` then id in the same direction, as REST items (`ZJobSummary`: LAVA's field names, ISO
 * 8601 times). Reads only the summary columns (never the two definitions) with the names joined, in
 * one query, a prepared statement on the `pg` pool (`direct-sql.ts`); a single state or health is
 * compared with `=` ({@link jobListSql}). `count` is exact,
 * except that a count of {@link COUNT_CACHE_MIN_ROWS} or more is cached per filter and viewer
 * scope: it may lag by up to {@link COUNT_FRESH_MS} (plus one refresh). A page shorter than `limit`
 * always gives the exact total (`offset + results`).
 * @throws Error when `f.ordering` is not one of {@link JOB_ORDER_COLUMNS} (callers validate first)
 */
export async function listJobSummaries(db: InstanceDb, viewer: TInstanceViewer | null, f: TJobListFilter): Promise<TJobSummaryPage> {
  const { where, orderBy } = jobListSql(viewer, f);
  const [count, rows] = await Promise.all([
    countJobs(db, where),
    directSqlQuery<TJobSummary>(
      db,
      Prisma.sql`
      SELECT ${SUMMARY_SELECT}
      FROM (SELECT ${SUMMARY_COLUMNS} FROM test_jobs j ${where} ${orderBy} LIMIT ${f.limit} OFFSET ${f.offset}) j
      JOIN users u ON u.id = j.submitter_id
      JOIN device_types dt ON dt.id = j.requested_device_type_id
      LEFT JOIN devices d ON d.id = j.actual_device_id
      ${orderBy}`,
      { prepare: true, isoTimestamps: true },
    ),
  ]);
  // a short page ends the list: its total is known exactly whatever the cache said
  const exact =
    rows.length < f.limit && (rows.length > 0 || f.offset === 0) ? f.offset + rows.length : Math.max(count, f.offset + rows.length);
  return { count: exact, results: rows };
}

/**
 * The jobs of {@link listJobSummaries}' page (same filters, visibility and order), as LAVA's XML-RPC
 * `scheduler.jobs.list` struct (`{id, description, device_type, health, state, submitter}`, in that
 * order), built by the query; no count. One prepared statement on the `pg` pool.
 * @throws Error when `f.ordering` is not one of {@link JOB_ORDER_COLUMNS} (callers validate first)
 */
export async function listJobBriefs(db: InstanceDb, viewer: TInstanceViewer | null, f: TJobListFilter): Promise<TJobBrief[]> {
  const { where, orderBy, column } = jobListSql(viewer, f);
  // the sort column travels with the page (unless it is one of the columns already there)
  const sortColumn = Prisma.raw(["id", "state", "health"].includes(column) ? "" : `, j.${column}`);
  return directSqlQuery<TJobBrief>(
    db,
    Prisma.sql`
    SELECT j.id, j.description, dt.name AS device_type, j.health::text AS health, j.state::text AS state, u.username AS submitter
    FROM (SELECT j.id, j.description, j.requested_device_type_id, j.submitter_id, j.state, j.health${sortColumn}
          FROM test_jobs j ${where} ${orderBy} LIMIT ${f.limit} OFFSET ${f.offset}) j
    JOIN users u ON u.id = j.submitter_id
    JOIN device_types dt ON dt.id = j.requested_device_type_id
    ${orderBy}`,
    { prepare: true },
  );
}

/**
 * The WHERE (filters and the visibility policy) and ORDER BY (and its column) of a job list over `test_jobs j`. A
 * single state or health is compared with `=` rather than `= ANY` of a one-element array: a plain equality, which an
 * index led by the column can serve in order.
 * @throws Error when `f.ordering` is not one of {@link JOB_ORDER_COLUMNS}
 */
function jobListSql(viewer: TInstanceViewer | null, f: TJobListFilter): { where: Prisma.Sql; orderBy: Prisma.Sql; column: string } {
  const column = JOB_ORDER_COLUMNS[f.ordering.replace(/^-/, "")];
  if (!column) throw new Error(`job list: unknown ordering '${f.ordering}'`);
  const dir = f.ordering.startsWith("-") ? "DESC" : "ASC";
  const conds: Prisma.Sql[] = [];
  if (f.states?.length === 1) conds.push(Prisma.sql`j.state = ${f.states[0]}::"JobState"`);
  else if (f.states?.length) conds.push(Prisma.sql`j.state = ANY(${f.states}::"JobState"[])`);
  if (f.healths?.length === 1) conds.push(Prisma.sql`j.health = ${f.healths[0]}::"JobHealth"`);
  else if (f.healths?.length) conds.push(Prisma.sql`j.health = ANY(${f.healths}::"JobHealth"[])`);
  if (f.requestedDeviceType)
    conds.push(Prisma.sql`j.requested_device_type_id IN (SELECT id FROM device_types WHERE name = ${f.requestedDeviceType})`);
  if (f.requestedDeviceTypes)
    conds.push(Prisma.sql`j.requested_device_type_id IN (SELECT id FROM device_types WHERE name = ANY(${f.requestedDeviceTypes}::text[]))`);
  if (f.endedAfter) conds.push(Prisma.sql`j.end_time >= ${f.endedAfter}`);
  if (!viewer?.isSuperuser) conds.push(visibleJobsCondition(viewer));
  const where = conds.length ? Prisma.sql`WHERE ${Prisma.join(conds, " AND ")}` : Prisma.empty;
  // the column and direction come from the fixed table above, never from the request text
  return { where, orderBy: Prisma.raw(`ORDER BY j.${column} ${dir}, j.id ${dir}`), column };
}

async function exactCount(db: InstanceDb, where: Prisma.Sql): Promise<number> {
  const r = await directSqlQuery<{ n: number }>(db, Prisma.sql`SELECT count(*)::int AS n FROM test_jobs j ${where}`, { prepare: true });
  return r[0]?.n ?? 0;
}

/** The DRF `count`: exact, or a large count from the per-filter cache (see {@link listJobSummaries}). */
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

const JOB_NAMES_INCLUDE = {
  submitter: { select: { username: true } },
  requestedDeviceType: { select: { name: true } },
  actualDevice: { select: { hostname: true } },
} as const;

type JobRowWithNames = Prisma.TestJobGetPayload<{ include: typeof JOB_NAMES_INCLUDE }>;

function fromJobRow(j: JobRowWithNames): TJobWithDefinition {
  return {
    id: j.id,
    submitterId: j.submitterId,
    submitter: j.submitter.username,
    description: j.description,
    healthCheck: j.healthCheck,
    requestedDeviceTypeId: j.requestedDeviceTypeId,
    requestedDeviceType: j.requestedDeviceType.name,
    tags: j.tags,
    actualDevice: j.actualDevice?.hostname ?? null,
    submitTime: j.submitTime,
    startTime: j.startTime,
    endTime: j.endTime,
    state: j.state,
    health: j.health,
    priority: j.priority,
    visibility: j.visibility,
    metadata: (j.metadata ?? {}) as Record<string, string>,
    failureComment: j.failureComment,
    errorType: j.errorType,
    logLineCount: j.logLineCount,
    definition: j.definition,
    originalDefinition: j.originalDefinition,
  };
}

/** Job `jobId` with its names and definitions, whoever asks (internal use), or null when there is none. */
export async function findJob(db: InstanceDb | InstanceTx, jobId: number): Promise<TJobWithDefinition | null> {
  const job = await db.testJob.findUnique({ where: { id: jobId }, include: JOB_NAMES_INCLUDE });
  return job ? fromJobRow(job) : null;
}

/**
 * Job `jobId` if `viewer` (null = anonymous) may see it (job-visibility.ts), else null — the same
 * answer as for a job that does not exist, so callers leak no existence.
 */
export async function findVisibleJob(
  db: InstanceDb | InstanceTx,
  jobId: number,
  viewer: TInstanceViewer | null,
): Promise<TJobWithDefinition | null> {
  const job = await findJob(db, jobId);
  return job && (await canViewJob(db, job, viewer)) ? job : null;
}

/** A job's state and number of stored log lines (the log stream's progress check), or null. */
export async function jobLogProgress(
  db: InstanceDb | InstanceTx,
  jobId: number,
): Promise<{ state: TJobState; logLineCount: number } | null> {
  return db.testJob.findUnique({ where: { id: jobId }, select: { state: true, logLineCount: true } });
}

/**
 * What the worker API needs to check a job call and hand out its bundle: the digest of the job's
 * token (null until a ping handed the job out), its device and its normalised definition; or null.
 */
export async function findJobForWorker(db: InstanceDb | InstanceTx, jobId: number): Promise<TJobForWorker | null> {
  // every job call of a worker (bundle, state, each log upload) starts here: on the pg pool
  const rows = await directQuery<TJobForWorker>(
    db,
    "magma_job_for_worker",
    `SELECT id, token_digest AS "tokenDigest", actual_device_id AS "actualDeviceId", definition FROM test_jobs WHERE id = $1`,
    [jobId],
  );
  return rows[0] ?? null;
}

/** A new single-node job as a submission stores it ({@link insertSubmittedJob}). */
export interface TNewJobRow {
  submitterId: number;
  /** the definition's job_name */
  description: string;
  requestedDeviceTypeId: number;
  tags: string[];
  priority: number;
  /** stored form: public | personal | group:<a>,<b> */
  visibility: string;
  metadata: Record<string, unknown>;
  /** the validated `notify:` block, or null */
  notify: object | null;
  /** normalised YAML */
  definition: string;
  /** the text as submitted */
  originalDefinition: string;
  tokenNonce: string;
  idempotencyKey: string | null;
  requestedDeviceId: number | null;
  requestedWorkerId: number | null;
}

/** An outbox row written with the job (the federation callback of Submitted). */
export interface TNewOutboxRow {
  transition: string;
  callbackIndex: number;
  url: string;
  method: string;
  contentType: string;
  dataset: string;
  headers: Record<string, string>;
}

const INSERT_JOB = `INSERT INTO test_jobs (submitter_id, description, requested_device_type_id, tags, priority, visibility, metadata,
    notify, definition, original_definition, token_nonce, idempotency_key, requested_device_id, requested_worker_id)
  VALUES ($1, $2, $3, $4::text[], $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14) RETURNING id`;

/**
 * Inserts one Submitted job (state, health, submit time and the other columns take their defaults)
 * in ONE statement, with `outbox` (when given) in the same statement so both exist or neither does.
 * A prepared statement on the `pg` pool (`direct-sql.ts`): the submission path's only write.
 * @returns the new job's id
 * @throws the driver's error; {@link sqlState} gives 23503 for a device type, submitter or pinned
 *   row that no longer exists, 23505 for a (submitter, idempotency key) already used
 */
export async function insertSubmittedJob(db: InstanceDb | InstanceTx, job: TNewJobRow, outbox: TNewOutboxRow | null): Promise<number> {
  const values: unknown[] = [
    job.submitterId,
    job.description,
    job.requestedDeviceTypeId,
    job.tags,
    job.priority,
    job.visibility,
    JSON.stringify(job.metadata),
    job.notify === null ? null : JSON.stringify(job.notify),
    job.definition,
    job.originalDefinition,
    job.tokenNonce,
    job.idempotencyKey,
    job.requestedDeviceId,
    job.requestedWorkerId,
  ];
  if (!outbox) return (await directQuery<{ id: number }>(db, "magma_insert_job", INSERT_JOB, values))[0]!.id;
  const rows = await directQuery<{ id: number }>(
    db,
    "magma_insert_job_outbox",
    `WITH j AS (${INSERT_JOB}),
     o AS (INSERT INTO callback_outbox (job_id, transition, callback_index, url, method, content_type, dataset, headers)
           SELECT id, $15, $16, $17, $18, $19, $20, $21::jsonb FROM j)
     SELECT id FROM j`,
    [
      ...values,
      outbox.transition,
      outbox.callbackIndex,
      outbox.url,
      outbox.method,
      outbox.contentType,
      outbox.dataset,
      JSON.stringify(outbox.headers),
    ],
  );
  return rows[0]!.id;
}

/** The columns of a batch row, as `jsonb_to_recordset` reads them (the same columns as INSERT_JOB). */
const BATCH_COLUMNS = `i int, submitter_id int, description text, requested_device_type_id int, tags text[], priority int,
    visibility text, metadata jsonb, notify jsonb, definition text, original_definition text, token_nonce text,
    idempotency_key text, requested_device_id int, requested_worker_id int, outbox jsonb`;

const INSERT_JOBS = `WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(${BATCH_COLUMNS})),
  j AS (INSERT INTO test_jobs (submitter_id, description, requested_device_type_id, tags, priority, visibility, metadata,
          notify, definition, original_definition, token_nonce, idempotency_key, requested_device_id, requested_worker_id)
        SELECT submitter_id, description, requested_device_type_id, tags, priority, visibility, metadata,
          notify, definition, original_definition, token_nonce, idempotency_key, requested_device_id, requested_worker_id
        FROM r ORDER BY i
        RETURNING id, token_nonce),
  o AS (INSERT INTO callback_outbox (job_id, transition, callback_index, url, method, content_type, dataset, headers)
        SELECT j.id, r.outbox->>'transition', (r.outbox->>'callbackIndex')::int, r.outbox->>'url', r.outbox->>'method',
          r.outbox->>'contentType', r.outbox->>'dataset', r.outbox->'headers'
        FROM j JOIN r ON r.token_nonce = j.token_nonce
        WHERE r.outbox IS NOT NULL)
  SELECT id, token_nonce FROM j`;

/**
 * Inserts several Submitted jobs, each with its outbox row when given, in ONE statement (one round
 * trip and one commit for all: a group commit of concurrent submissions), in the order given, so
 * their ids follow that order. All or none: when any row is refused (23503, 23505, a value
 * PostgreSQL cannot hold) the statement fails as a whole and nothing is stored.
 * @param rows at least one; every `job.tokenNonce` distinct (each returned id is matched by it)
 * @returns the new jobs' ids, in the order of `rows`
 * @throws the driver's error, as {@link insertSubmittedJob}
 */
export async function insertSubmittedJobs(
  db: InstanceDb | InstanceTx,
  rows: readonly { job: TNewJobRow; outbox: TNewOutboxRow | null }[],
): Promise<number[]> {
  const records = rows.map(({ job, outbox }, i) => ({
    i,
    submitter_id: job.submitterId,
    description: job.description,
    requested_device_type_id: job.requestedDeviceTypeId,
    tags: job.tags,
    priority: job.priority,
    visibility: job.visibility,
    metadata: job.metadata,
    notify: job.notify,
    definition: job.definition,
    original_definition: job.originalDefinition,
    token_nonce: job.tokenNonce,
    idempotency_key: job.idempotencyKey,
    requested_device_id: job.requestedDeviceId,
    requested_worker_id: job.requestedWorkerId,
    outbox,
  }));
  const inserted = await directQuery<{ id: number; token_nonce: string }>(db, "magma_insert_jobs", INSERT_JOBS, [JSON.stringify(records)]);
  const ids = new Map(inserted.map((r) => [r.token_nonce, r.id]));
  return rows.map(({ job }) => {
    const id = ids.get(job.tokenNonce);
    if (id === undefined) throw new Error(`insertSubmittedJobs: no id returned for the job with nonce ${job.tokenNonce.slice(0, 4)}…`);
    return id;
  });
}
