import { z } from "zod";
import { JOB_HEALTHS, JOB_STATES } from "../job-state.ts";
import { ZTestCase, ZTestSuite } from "../results/results.ts";
import { ZVisibility } from "../job-definition/job-definition.ts";

/**
 * Public REST API of an instance (LAVA's api/v0.2 subset), used by the frontend, lavacli-style
 * scripts and curl. Auth: `Authorization: Token <api token>` (LAVA's REST scheme).
 *
 *   POST /api/v0.2/jobs/                   TSubmitJobRequest → 201 TSubmitJobResponse
 *        optional header Idempotency-Key: the same key returns the same job ids (no second job)
 *   POST /api/v0.2/jobs/validate/          TSubmitJobRequest → 200 {message}
 *   GET  /api/v0.2/jobs/?limit&offset&state&health&requested_device_type&ordering  → TPage<TJobSummary>
 *   GET  /api/v0.2/jobs/<id>/              → TJobDetail
 *   POST /api/v0.2/jobs/<id>/cancel/       → {message}
 *   GET  /api/v0.2/jobs/<id>/logs/?start=&end=   → YAML text (LAVA) ; with Accept: application/json → TLogLine[]
 *   GET  /api/v0.2/jobs/<id>/suites/       → TPage<TTestSuite>
 *   GET  /api/v0.2/jobs/<id>/tests/        → TPage<TTestCase>
 *   GET  /api/v0.2/jobs/<id>/results/      → TJobResults (Magma: all suites with cases in one call)
 *   GET  /api/v0.2/devices/ devicetypes/ workers/ → TPage<…>
 *   GET  /api/v0.2/system/version/         → {version}
 *   GET  /api/v0.2/magma/overview/         → TInstanceOverview (frontend labs page)
 *   GET  /api/v0.2/magma/finished-jobs/?since&after_id&limit → TFinishedJobsPage (reconciliation feed)
 *   GET  /api/v0.2/magma/jobs/<id>/federation/  → TNotifyPayload (what the federation callback carries,
 *        dataset results: no log, no token) — the frontend's reconciliation re-ingests it
 */
export const INSTANCE_API_PREFIX = "/api/v0.2";
export const IDEMPOTENCY_HEADER = "idempotency-key";

/**
 * Request header naming the user a REST call acts for (lowercase, as Node reports it). Accepted only
 * with an API token that has the `federation` capability (the frontend's lab token): the instance then
 * authenticates the call as that user, creating it on first use as a plain (never super-) user, so
 * a job submitted through the frontend is recorded as submitted by the real person and every read
 * follows that person's visibility. Acting as an existing superuser needs a superuser's token.
 * Errors: 401 without a token, 403 for a token without the capability (or a superuser named by a
 * non-superuser's token), 400 for a name that is not a valid username ({@link ZLabUsername}).
 */
export const SUBMITTER_HEADER = "x-magma-submitter";

/** A lab username (Django's rule, which LAVA keeps): 1–150 of letters, digits and `@.+-_`. */
export const ZLabUsername = z.string().regex(/^[\w.@+-]{1,150}$/, "must be 1 to 150 letters, digits or @.+-_");

export const ZSubmitJobRequest = z.object({ definition: z.string().min(1, "definition must not be empty") });
export type TSubmitJobRequest = z.infer<typeof ZSubmitJobRequest>;
/** Submit answer: the new job's id, or for a MultiNode job the sub ids `N.0`, `N.1`, … (strings, as LAVA's REST API). */
export const ZSubmitJobResponse = z.object({
  message: z.string(),
  job_ids: z.array(z.union([z.number().int(), z.string().regex(/^\d+\.\d+$/, "a MultiNode sub id N.k")])),
});
export type TSubmitJobResponse = z.infer<typeof ZSubmitJobResponse>;

/** LimitOffset page, Django REST framework's shape. */
export const zPage = <T extends z.ZodType>(item: T) =>
  z.object({ count: z.number().int(), next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) });
export type TPage<T> = { count: number; next: string | null; previous: string | null; results: T[] };

/** REST job item (LAVA field names; times ISO 8601 with Z, or null). */
export const ZJobSummary = z.object({
  id: z.number().int(),
  submitter: z.string(),
  description: z.string(),
  health_check: z.boolean(),
  requested_device_type: z.string(),
  tags: z.array(z.string()),
  actual_device: z.string().nullable(),
  submit_time: z.string(),
  start_time: z.string().nullable(),
  end_time: z.string().nullable(),
  state: z.enum(JOB_STATES),
  health: z.enum(JOB_HEALTHS),
  priority: z.number().int(),
  visibility: z.string(),
  metadata: z.record(z.string(), z.string()),
  failure_comment: z.string().nullable(),
  error_type: z.string().nullable(),
});
export type TJobSummary = z.infer<typeof ZJobSummary>;

export const ZJobDetail = ZJobSummary.extend({ definition: z.string(), original_definition: z.string() });
export type TJobDetail = z.infer<typeof ZJobDetail>;

/** Counts the frontend's labs overview shows for one instance. */
export const ZInstanceOverview = z.object({
  name: z.string(),
  version: z.string(),
  workers: z.array(z.object({ hostname: z.string(), state: z.string(), health: z.string(), last_ping: z.string().nullable() })),
  devices: z.array(
    z.object({
      hostname: z.string(),
      device_type: z.string(),
      state: z.string(),
      health: z.string(),
      worker_host: z.string().nullable(),
      current_job: z.number().int().nullable(),
    }),
  ),
  device_types: z.array(z.string()),
  queue: z.object({ submitted: z.number().int(), scheduled: z.number().int(), running: z.number().int() }),
  /** Submitted jobs waiting per device type name (optional on parse: older labs omit it) */
  queue_by_device_type: z.record(z.string(), z.number().int()).optional(),
});
export type TInstanceOverview = z.infer<typeof ZInstanceOverview>;

/** `GET jobs/<id>/results/` (Magma): every suite of the job with its cases, in one call. */
export const ZJobResults = z.object({
  job: z.number().int(),
  suites: z.array(ZTestSuite.extend({ cases: z.array(ZTestCase) })),
});
export type TJobResults = z.infer<typeof ZJobResults>;

/**
 * One finished job in the reconciliation feed: enough for the frontend to tell whether its copy is
 * missing or stale (state/health, number of test cases) without fetching the results.
 * `end_time` is ISO 8601 with microseconds (the cursor must not lose PostgreSQL's precision).
 */
export const ZFinishedJobRef = z.object({
  id: z.number().int(),
  end_time: z.string(),
  health: z.enum(JOB_HEALTHS),
  test_case_count: z.number().int(),
  log_line_count: z.number().int(),
  /** the job's visibility on its lab (optional on parse: labs before it was added omit it) */
  visibility: ZVisibility.optional(),
  /** the lab username of the submitter (optional on parse, as `visibility`) */
  submitter: z.string().optional(),
});
export type TFinishedJobRef = z.infer<typeof ZFinishedJobRef>;

/** Cursor of the feed: jobs strictly after (end_time, id) in (end_time, id) order. */
export const ZFinishedJobsCursor = z.object({ since: z.string(), after_id: z.number().int() });
export type TFinishedJobsCursor = z.infer<typeof ZFinishedJobsCursor>;

/** `GET magma/finished-jobs/`: a page in (end_time, id) order; `next` is null at the end. */
export const ZFinishedJobsPage = z.object({ results: z.array(ZFinishedJobRef), next: ZFinishedJobsCursor.nullable() });
export type TFinishedJobsPage = z.infer<typeof ZFinishedJobsPage>;

// ---------------------------------------------------------------------------------------------
// REST query parameters (LAVA api/v0.2, Django REST framework style)

/** DRF LimitOffset paging: `limit` (default 50, at most 1000) and `offset`. */
export const ZPagingQuery = z.object({
  limit: z.coerce.number().int().min(1, "limit must be at least 1").max(1000, "limit must be at most 1000").default(50),
  offset: z.coerce.number().int().min(0, "offset must not be negative").default(0),
});

/** `GET jobs/` filters, LAVA's names (comma-separated lists for `__in`). */
export const ZJobListFilters = z.object({
  state: z.string().optional(),
  state__in: z.string().optional(),
  health: z.string().optional(),
  health__in: z.string().optional(),
  requested_device_type: z.string().optional(),
  requested_device_type__name: z.string().optional(),
  ordering: z.string().optional(),
});

/** `GET jobs/<id>/logs/?start=&end=`: log lines `[start, end)`. */
export const ZLogRangeQuery = z.object({
  start: z.coerce.number().int().min(0, "start must not be negative").default(0),
  end: z.coerce.number().int().min(0, "end must not be negative").optional(),
});

/** `GET events/?since=N&topic=a,b`: events after sequence `since`, of these LAVA topics. */
export const ZEventsQuery = z.object({
  since: z.coerce.number().int().min(0, "since must not be negative").default(0),
  /** comma-separated topics, e.g. `org.lavasoftware.testjob` */
  topic: z.string().optional(),
});

/** `GET magma/finished-jobs/?since=&after_id=&limit=`: the reconciliation feed's page after (since, after_id). */
export const ZFinishedJobsQuery = z
  .object({
    since: z.string().min(1).optional(),
    after_id: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1, "limit must be at least 1").max(1000, "limit must be at most 1000").default(200),
  })
  .refine((q) => q.since !== undefined || q.after_id === 0, { message: "after_id needs since", path: ["after_id"] });

/** `POST jobs/batch_cancel/` (LAVA 2025+): jobs to cancel, by id. */
export const ZBatchCancelRequest = z.object({
  job_ids: z.array(z.number().int().positive()).min(1, "job_ids must list at least one job id").max(1000),
});
/** The answer: the ids a cancel signal was sent to, and those unknown, invisible or not the caller's to cancel. */
export const ZBatchCancelResponse = z.object({
  message: z.string(),
  job_ids: z.array(z.number().int()),
  invalid_job_ids: z.array(z.number().int()),
});
export type TBatchCancelResponse = z.infer<typeof ZBatchCancelResponse>;

/** `POST workers/<hostname>/set_health/` (LAVA 2025+): `health` Active | Maintenance | Retired (any case), optional `reason`. */
export const ZSetWorkerHealthRequest = z.object({
  health: z
    .string()
    .transform((h) => h.charAt(0).toUpperCase() + h.slice(1).toLowerCase())
    .pipe(z.enum(["Active", "Maintenance", "Retired"], { error: "health must be Active, Maintenance or Retired" })),
  reason: z.string().max(500).optional(),
});

// ---------------------------------------------------------------------------------------------
// Huge jobs: results and logs cross the federation in bounded chunks (issue 13, item 6)

/**
 * Most test cases a federation callback carries inline (`results`). A job with more sends none:
 * its `magma.transfer` block gives the totals and the frontend pulls them page by page
 * (`magma/jobs/<id>/cases/`), as it pulls the log by line ranges (`jobs/<id>/logs/?start=&end=`).
 */
export const FEDERATION_INLINE_CASES = 1000;

/** `GET magma/jobs/<id>/cases/?after_id=&limit=`: a keyset page of a job's test cases in case-id order. */
export const ZJobCasesQuery = z.object({
  /** Cases with an id strictly greater than this (0 = from the first). */
  after_id: z.coerce.number().int().min(0, "after_id must be 0 or more").default(0),
  limit: z.coerce.number().int().min(1, "limit must be at least 1").max(5000, "limit must be at most 5000").default(1000),
});
export type TJobCasesQuery = z.infer<typeof ZJobCasesQuery>;

/**
 * One page of `magma/jobs/<id>/cases/`: LAVA's test case export (every value a string, as in the
 * notify `results` dataset) and the cursor of the next page (null: this was the last one).
 */
export const ZJobCasesPage = z.object({
  results: z.array(z.record(z.string(), z.unknown())),
  next_after_id: z.number().int().nullable(),
});
export type TJobCasesPage = z.infer<typeof ZJobCasesPage>;
