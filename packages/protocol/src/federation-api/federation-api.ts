import { z } from "zod";
import { JOB_HEALTHS, JOB_STATES } from "../job-state.ts";
import { MAX_DEFINITION_BYTES } from "../job-definition/parse.ts";

/**
 * The frontend's public shapes: the `/api/v1` JSON API (snake_case, LAVA REST field names where they
 * exist), the callback receiver's acknowledgement, and the tRPC inputs the browser sends. Times are
 * ISO 8601 strings (UTC).
 */

const labName = z.string().min(1).max(100);
const isoTime = z.string();

/** A federated job in `/api/v1/jobs` (one lab's job as the frontend knows it). */
export const ZApiJob = z.object({
  lab: z.string(),
  id: z.number().int(),
  description: z.string(),
  device_type: z.string(),
  submitter: z.string(),
  state: z.enum(JOB_STATES),
  health: z.enum(JOB_HEALTHS),
  priority: z.number().int(),
  metadata: z.record(z.string(), z.string()),
  actual_device: z.string().nullable(),
  submit_time: isoTime,
  start_time: isoTime.nullable(),
  end_time: isoTime.nullable(),
  error_type: z.string().nullable(),
  failure_comment: z.string().nullable(),
  health_check: z.boolean(),
  updated_at: isoTime,
});
export type TApiJob = z.infer<typeof ZApiJob>;

/** `GET /api/v1/jobs` → one keyset page: pass `next_cursor` back as `cursor` (null on the last page). */
export const ZApiJobList = z.object({ results: z.array(ZApiJob), next_cursor: z.string().nullable() });
export type TApiJobList = z.infer<typeof ZApiJobList>;

/** One test case in `/api/v1/jobs/<lab>/<id>` (LAVA's `unit` and `test_set` names). */
export const ZApiTestCase = z.object({
  id: z.string(),
  name: z.string(),
  result: z.string(),
  measurement: z.string().nullable(),
  unit: z.string(),
  test_set: z.string().nullable(),
});

/** `GET /api/v1/jobs/<lab>/<id>` → the job with its definition and suites. */
export const ZApiJobDetail = ZApiJob.extend({
  definition: z.string(),
  suites: z.array(
    z.object({
      name: z.string(),
      counts: z.object({ pass: z.number().int(), fail: z.number().int(), skip: z.number().int(), unknown: z.number().int() }),
      tests: z.array(ZApiTestCase),
    }),
  ),
});
export type TApiJobDetail = z.infer<typeof ZApiJobDetail>;

/** Most times one target may move to another lab after Infrastructure failures (`retry.infrastructure`). */
export const MAX_INFRASTRUCTURE_RETRIES = 10;

/**
 * Where a submission goes: the named labs (one job on each), or `"any"`: one job on the best lab the
 * user may use that offers the device type (a lab with an idle device first, then the shortest queue
 * for that device type).
 */
export const ZSubmissionLabs = z.union([z.literal("any"), z.array(labName).min(1, 'choose at least one lab (or "any")').max(50)], {
  error: 'must be "any" or a list of lab names',
});
export type TSubmissionLabs = z.infer<typeof ZSubmissionLabs>;

/**
 * Retry policy: `infrastructure: N` resubmits a target whose job ends Incomplete with error_type
 * Infrastructure to another eligible lab, up to N times. Job errors and test failures never retry.
 */
export const ZSubmissionRetry = z.strictObject({
  infrastructure: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(MAX_INFRASTRUCTURE_RETRIES, `must be at most ${MAX_INFRASTRUCTURE_RETRIES}`)
    .default(0),
});
export type TSubmissionRetry = z.infer<typeof ZSubmissionRetry>;

/** `POST /api/v1/submissions` body: one LAVA job definition for several labs, or `labs: "any"`, with an optional retry policy. */
export const ZApiSubmissionRequest = z.strictObject({
  definition: z.string().min(1, "must not be empty").max(MAX_DEFINITION_BYTES, `is over ${MAX_DEFINITION_BYTES} characters`),
  labs: ZSubmissionLabs,
  retry: ZSubmissionRetry.optional(),
});
export type TApiSubmissionRequest = z.infer<typeof ZApiSubmissionRequest>;

/**
 * One attempt of a submission target: the lab it was placed on, the lab's job id (null until
 * submitted) and that job's state/health/error_type as last reported (null before its first callback).
 */
export const ZApiSubmissionAttempt = z.object({
  lab: z.string(),
  job_id: z.number().int().nullable(),
  state: z.string().nullable(),
  health: z.string().nullable(),
  error_type: z.string().nullable(),
});

/**
 * A submission in `/api/v1/submissions`: per target, `queued` → `submitted` (with the lab's `job_id`)
 * or `failed` (`error`); `lab`/`job_id` are those of the latest attempt, `attempts` lists every one.
 */
export const ZApiSubmission = z.object({
  id: z.string(),
  /** null for submissions from before accounts existed */
  submitter: z.string().nullable(),
  job_name: z.string(),
  device_type: z.string(),
  created_at: isoTime,
  /** "any" when placed by the frontend, else the labs named at submission */
  labs: z.union([z.literal("any"), z.array(z.string())]),
  retry: z.object({ infrastructure: z.number().int() }),
  targets: z.array(
    z.object({
      lab: z.string(),
      status: z.enum(["queued", "submitted", "failed"]),
      job_id: z.number().int().nullable(),
      error: z.string().nullable(),
      attempts: z.array(ZApiSubmissionAttempt),
    }),
  ),
});
export type TApiSubmission = z.infer<typeof ZApiSubmission>;

/** `POST /api/callbacks/<lab>` → 202: the callback is queued for ingest (`job_id` its BullMQ id); `signed` when its signature was verified. */
export const ZCallbackAck = z.object({ queued: z.literal(true), job_id: z.string(), signed: z.boolean() });
export type TCallbackAck = z.infer<typeof ZCallbackAck>;

// ---------------------------------------------------------------------------------------------
// tRPC inputs (browser → frontend)

/** One federated job: its lab and the lab's job id. */
export const ZJobRef = z.object({ lab: labName, id: z.number().int().positive() });
/** A job's log from line `start` (0-based). */
export const ZJobLogInput = ZJobRef.extend({ start: z.number().int().nonnegative().default(0) });

/** Filters of the results matrix and trend. */
export const ZResultsFilter = z.object({
  lab: labName.optional(),
  deviceType: z.string().min(1).max(200).optional(),
  state: z.enum(JOB_STATES).optional(),
  health: z.enum(JOB_HEALTHS).optional(),
});
export const ZResultsMatrixInput = ZResultsFilter.extend({ groupBy: z.string().max(200).optional() });
export const ZResultsTrendInput = ZResultsFilter.extend({
  by: z.enum(["day", "hour", "group"]).default("day"),
  groupBy: z.string().max(200).default(""),
  days: z.number().int().min(1).max(365).default(30),
  limit: z.number().int().min(1).max(100).default(20),
});

/** Filters and keyset paging of the federated job list (tRPC input; `/api/v1/jobs` maps its query onto it). */
export const ZJobListQuery = z.object({
  lab: labName.optional(),
  state: z.enum(JOB_STATES).optional(),
  health: z.enum(JOB_HEALTHS).optional(),
  deviceType: z.string().min(1).max(200).optional(),
  jobName: z.string().min(1).max(200).optional(),
  metadata: z.record(z.string().min(1).max(200), z.string().max(500)).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).nullish(),
});
export type TJobListQuery = z.input<typeof ZJobListQuery>;

/** The decoded job-list cursor: submit time (ISO) and row id of the last job of the page. */
export const ZJobListCursor = z.object({ t: z.iso.datetime(), i: z.number().int().positive() });

/** The submit form: idempotent on `clientRequestId` (one per form). */
export const ZSubmissionCreateInput = z.object({
  clientRequestId: z.string().min(8).max(100),
  definition: z.string().min(1, "definition must not be empty").max(MAX_DEFINITION_BYTES),
  labs: ZSubmissionLabs,
  retry: ZSubmissionRetry.optional(),
});
export const ZSubmissionRef = z.object({ id: z.uuid() });

/** Admin page (superusers): a new user, optionally superuser and in groups. */
export const ZAdminAddUserInput = z.object({
  username: z.string().max(150),
  password: z.string().max(1024).optional(),
  superuser: z.boolean().default(false),
  groups: z.array(z.string().max(150)).max(50).default([]),
});
export const ZAdminAddGroupInput = z.object({ name: z.string().max(150) });
export const ZAdminAddMemberInput = z.object({ group: z.string().max(150), username: z.string().max(150) });
export const ZAdminGrantLabInput = z.object({ group: z.string().max(150), lab: labName });
export const ZAdminUserRef = z.object({ username: z.string().max(150) });
export const ZAdminSetSuperuserInput = z.object({ username: z.string().max(150), superuser: z.boolean() });

/** Account page: a new personal API token (described), or one to revoke. */
export const ZTokenCreateInput = z.object({ description: z.string().max(200).default("") });
export const ZTokenRef = z.object({ id: z.number().int().positive() });

/** Devices and queue of one device type on one lab (availability rollup). */
export const ZDeviceTypeLabLoad = z.object({
  lab: z.string(),
  /** Idle with a usable health (Good, or Unknown): can take a job now */
  idle: z.number().int(),
  /** Reserved or Running a job */
  busy: z.number().int(),
  /** health Bad, Maintenance or Retired */
  bad: z.number().int(),
  /** Submitted jobs waiting for the type */
  queue: z.number().int(),
});

/**
 * `GET /api/v1/device-types` (and tRPC `labs.availability`): every device type offered by a reachable
 * lab, with idle/busy/bad devices and queue depth summed across labs and per lab.
 */
export const ZDeviceTypeAvailability = z.object({
  results: z.array(
    ZDeviceTypeLabLoad.omit({ lab: true }).extend({
      device_type: z.string(),
      labs: z.array(ZDeviceTypeLabLoad),
    }),
  ),
  /** labs that did not answer (their devices are not counted) */
  unreachable: z.array(z.string()),
  checked_at: isoTime,
});
export type TDeviceTypeAvailability = z.infer<typeof ZDeviceTypeAvailability>;
// ---------------------------------------------------------------------------------------------
// Lab health board (issue 13 item 7): GET /api/v1/labs/health and tRPC labs.health

/** Finished jobs in a window, those that ended with error_type Infrastructure, and their ratio (null: none finished). */
export const ZLabHealthRate = z.object({
  finished: z.number().int(),
  infrastructure: z.number().int(),
  rate: z.number().nullable(),
});
export type TLabHealthRate = z.infer<typeof ZLabHealthRate>;

/** One bucket of an infrastructure-error history: start of the bucket (UTC, ISO 8601) and its counts. */
export const ZLabHealthBucket = ZLabHealthRate.extend({ bucket: z.string(), rate: z.number() });
export type TLabHealthBucket = z.infer<typeof ZLabHealthBucket>;

/** One lab on the health board. */
export const ZLabHealth = z.object({
  name: z.string(),
  /** `inbound`: the frontend calls the lab; `outbound`: the lab connects to the frontend (no URL) */
  mode: z.enum(["inbound", "outbound"]),
  /**
   * inbound: `reachable` | `unreachable` (its overview answered just now or not); outbound:
   * `connected` | `disconnected` (heard from recently or not) | `awaiting enrollment` | `not enrolled`
   */
  status: z.string(),
  /** inbound: its overview answered just now; outbound: connected */
  reachable: z.boolean(),
  /** why it did not, else null */
  error: z.string().nullable(),
  /** last time it was heard from (callback, outbound connection or poll), ISO 8601, or null */
  lastContactAt: z.string().nullable(),
  workersOnline: z.array(z.string()),
  workersOffline: z.array(z.string()),
  /** device hostnames with health Bad / Maintenance */
  devicesBad: z.array(z.string()),
  devicesMaintenance: z.array(z.string()),
  infra24h: ZLabHealthRate,
  infra7d: ZLabHealthRate,
  /** infrastructure-error rate per bucket (start of the bucket, UTC), oldest first; buckets without finished jobs are left out */
  history: z.array(ZLabHealthBucket),
});
export type TLabHealth = z.infer<typeof ZLabHealth>;

/** One device type across every lab. */
export const ZDeviceTypeHealth = z.object({
  deviceType: z.string(),
  labs: z.array(z.string()),
  devices: z.object({ total: z.number().int(), bad: z.number().int(), maintenance: z.number().int() }),
  infra24h: ZLabHealthRate,
  infra7d: ZLabHealthRate,
  /** infrastructure-error rate of the type's jobs on every lab, per bucket, oldest first; empty buckets left out */
  history: z.array(ZLabHealthBucket),
});
export type TDeviceTypeHealth = z.infer<typeof ZDeviceTypeHealth>;

export const ZLabHealthBoard = z.object({
  checkedAt: z.string(),
  historyBucketHours: z.number().int(),
  labs: z.array(ZLabHealth),
  deviceTypes: z.array(ZDeviceTypeHealth),
});
export type TLabHealthBoard = z.infer<typeof ZLabHealthBoard>;
