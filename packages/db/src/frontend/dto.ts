import type { TJobHealth, TJobState } from "@magma/protocol";
/**
 * Plain data shapes the frontend repositories return (Prisma types never reach
 * React or the JSON API). Times are ISO 8601 strings (UTC, `Z`), so they survive JSON/tRPC as is.
 */

/** A lab as stored, including its secrets: server-side only, never sent to a browser. */
export interface TInstanceRecord {
  id: number;
  name: string;
  /** Lab kind: "magma" (a Magma instance) or "lava" (a LAVA server). */
  kind: TLabKind;
  /** Base URL (no trailing slash), or null for an outbound-only lab (it connects to the frontend). */
  url: string | null;
  /** When an outbound-only lab exchanged its enrollment token (ISO), else null. */
  enrolledAt: string | null;
  /** Whether a one-time enrollment token was issued and not used yet. */
  enrollmentPending: boolean;
  /** Last time the lab was heard from (callback or outbound link), ISO, or null. */
  lastContactAt: string | null;
  apiToken: string;
  callbackToken: string;
  /** HMAC key of the lab's signed callbacks, or null: the lab does not sign (token only). */
  callbackSecret: string | null;
  /** LAVA labs: the `token:` name written in the notify callback the frontend adds (null: not set). */
  callbackTokenName: string | null;
}

/** Kinds of lab the frontend federates. */
export const LAB_KINDS = ["magma", "lava"] as const;
export type TLabKind = (typeof LAB_KINDS)[number];

/** A lab as configured (MAGMA_FRONTEND_CONFIG entry, or `npm run labs -- add`). */
export interface TInstanceConfig {
  name: string;
  /** default "magma" */
  kind?: TLabKind;
  url: string;
  api_token: string;
  callback_token: string;
  /** Set when the lab signs its callbacks (X-Magma-Signature): unsigned ones are then refused. */
  callback_secret?: string | null;
  /** LAVA labs: name of the LAVA token whose secret LAVA sends on callbacks (see TInstanceRecord). */
  callback_token_name?: string | null;
}

/** One federated job row (list view and JSON API). `id` is the job id on its lab. */
export interface TFederatedJob {
  lab: string;
  id: number;
  name: string;
  deviceType: string;
  submitter: string;
  state: TJobState;
  health: TJobHealth;
  priority: number;
  metadata: Record<string, string>;
  actualDevice: string | null;
  submitTime: string;
  startTime: string | null;
  endTime: string | null;
  errorType: string | null;
  failureComment: string | null;
  healthCheck: boolean;
  updatedAt: string;
}

/** One test case of a federated job; `id` is the case id on its lab. */
export interface TFederatedTestCase {
  id: string;
  suite: string;
  name: string;
  result: string;
  /** Decimal as text (LAVA keeps 10 decimal places; trailing zeros are dropped), or null. */
  measurement: string | null;
  units: string;
  testSet: string | null;
}

/** Pass/fail/skip/unknown counts. */
export interface TResultCounts {
  pass: number;
  fail: number;
  skip: number;
  unknown: number;
}

/** A suite with its cases, in case id order. */
export interface TFederatedSuite {
  name: string;
  counts: TResultCounts;
  cases: TFederatedTestCase[];
}

/** A job with its definition and results (job page and JSON API). */
export interface TFederatedJobDetail extends TFederatedJob {
  definition: string;
  suites: TFederatedSuite[];
}

/** Filters of the federated job list; all optional and combined with AND. */
export interface TJobListFilter {
  lab?: string;
  state?: string;
  health?: string;
  deviceType?: string;
  /** Case-insensitive substring of the job name. */
  jobName?: string;
  /** Every key must equal its value in the job's metadata (JSONB containment, GIN-indexed). */
  metadata?: Record<string, string>;
}

/** Keyset position: the last row of the previous page (submit time, internal id). */
export interface TJobCursor {
  submitTime: string;
  rowId: number;
}

/** A page of jobs, newest submit time first; `nextCursor` null on the last page. */
export interface TJobPage {
  results: TFederatedJob[];
  nextCursor: TJobCursor | null;
}

/** One cell of the results matrix: a metadata value × lab × device type. */
export interface TResultMatrixRow {
  group: string;
  lab: string;
  deviceType: string;
  jobs: number;
  counts: TResultCounts;
}

/** One point of the results trend: a bucket (UTC day or hour, or metadata value) × lab. */
export interface TResultTrendPoint {
  /** "YYYY-MM-DD" for days, "YYYY-MM-DD HH:00" for hours, the metadata value ("" when unset) for groups. */
  bucket: string;
  /** Newest submit time of the bucket's jobs (ISO), the order of the buckets. */
  newest: string;
  lab: string;
  jobs: number;
  counts: TResultCounts;
}

/** Job counts by state and health for a filter (the job list's summary). */
export interface TJobStateCount {
  state: string;
  health: string;
  jobs: number;
}

export type TSubmissionTargetStatus = "queued" | "submitted" | "failed";

/**
 * One placement of a submission target on a lab (the first, then one per retry elsewhere), with the
 * lab job's state/health/error_type as last reported to the frontend (null until a callback came).
 */
export interface TSubmissionPlacement {
  number: number;
  lab: string;
  remoteJobId: number | null;
  /** active: the target's current attempt; retried: failed with Infrastructure and replaced */
  status: "active" | "retried";
  state: string | null;
  health: string | null;
  errorType: string | null;
  createdAt: string;
}

/** One lab of a submission (for `labs: "any"`: the lab of its latest placement). */
export interface TSubmissionTarget {
  id: string;
  lab: string;
  status: TSubmissionTargetStatus;
  remoteJobId: number | null;
  error: string | null;
  /** delivery attempts of the current placement (HTTP POSTs to the lab) */
  attempts: number;
  updatedAt: string;
  /** every placement of this target, oldest first */
  placements: TSubmissionPlacement[];
}

/** A cross-lab submission with its targets (sorted by lab name). */
export interface TSubmission {
  id: string;
  clientRequestId: string;
  deviceType: string;
  jobName: string;
  definition: string;
  createdAt: string;
  /** The submitting user's id and name (null for submissions from before accounts). */
  userId: number | null;
  submitter: string | null;
  /** submitted with `labs: "any"` */
  anyLab: boolean;
  /** `retry.infrastructure`: how many times a target may move to another lab after an Infrastructure failure */
  retryInfrastructure: number;
  targets: TSubmissionTarget[];
}

/**
 * Who is asking: a logged-in user (session cookie or personal API token) with the names of their
 * groups. Anonymous visitors are `null` wherever a viewer is taken.
 */
export interface TViewer {
  userId: number;
  username: string;
  isSuperuser: boolean;
  /** Names of the user's groups, sorted. */
  groups: string[];
}

/** A user as the admin page and CLI list it (never the password hash). */
export interface TUserSummary {
  id: number;
  username: string;
  isSuperuser: boolean;
  hasPassword: boolean;
  groups: string[];
  createdAt: string;
}

/** A group with its members and the labs it may submit to. */
export interface TGroupSummary {
  id: number;
  name: string;
  members: string[];
  labs: string[];
}

/** A personal API token as listed to its owner: never the token, only its first characters. */
export interface TApiTokenSummary {
  id: number;
  description: string;
  prefix: string;
  lastUsed: string | null;
  createdAt: string;
}
