import type {
  TDeviceHealth,
  TDeviceState,
  TJobHealth,
  TJobState,
  TJobSummary,
  TLogLine,
  TTestResult,
  TWorkerHealth,
  TWorkerState,
} from "@magma/protocol";
/**
 * Plain data shapes the instance repositories return: Prisma types never leave packages/db. Times
 * stay `Date` (UTC instants; the job list page, {@link TJobSummaryPage}, is the exception: it is
 * read in its REST shape): the instance renders them itself, as ISO 8601 for REST, as Python's
 * datetime text for LAVA exports and as `dateTime.iso8601` for XML-RPC. State and health are typed
 * with the protocol's TJobState / TJobHealth.
 */

/**
 * Who is asking, for the job visibility policy (repositories/job-visibility.ts): a user's id, name
 * and superuser flag; `null` wherever a viewer is accepted means an anonymous caller.
 */
export interface TInstanceViewer {
  id: number;
  username: string;
  isSuperuser: boolean;
}

/** One test job with its names resolved (submitter, requested device type, actual device). */
export interface TJobRecord {
  id: number;
  submitterId: number;
  submitter: string;
  description: string;
  healthCheck: boolean;
  requestedDeviceTypeId: number;
  requestedDeviceType: string;
  tags: string[];
  actualDevice: string | null;
  submitTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  state: TJobState;
  health: TJobHealth;
  priority: number;
  /** stored form: `public`, `personal` or `group:<a>,<b>` (see repositories/job-visibility.ts) */
  visibility: string;
  /** the job's `metadata:` mapping ({} when none) */
  metadata: Record<string, string>;
  failureComment: string | null;
  errorType: string | null;
  /** number of log lines stored so far */
  logLineCount: number;
}

/** A job record plus both definitions (normalised and as submitted), secrets NOT yet masked. */
export interface TJobWithDefinition extends TJobRecord {
  definition: string;
  originalDefinition: string;
}

/** Filters of a job list (REST `jobs/`, XML-RPC `jobs.list` / `jobs.queue`), already validated. */
export interface TJobListFilter {
  limit: number;
  offset: number;
  states?: TJobState[];
  healths?: TJobHealth[];
  requestedDeviceType?: string;
  /** any of these device types (LAVA XML-RPC `jobs.queue(device_types)`) */
  requestedDeviceTypes?: string[];
  /** only jobs whose end_time is at or after this instant (XML-RPC `jobs.list(since=N minutes)`) */
  endedAfter?: Date;
  /** a column of {@link JOB_ORDER_COLUMNS}, optionally prefixed by `-` for descending */
  ordering: string;
}

/** A job as LAVA's XML-RPC `scheduler.jobs.list` lists it (field names and order as LAVA's struct). */
export type TJobBrief = {
  id: number;
  description: string;
  device_type: string;
  health: TJobHealth;
  state: TJobState;
  submitter: string;
};

/**
 * One page of a job list with the (possibly cached, see listJobSummaries) total: the items already in
 * the REST shape (protocol `TJobSummary`, times as ISO 8601 text), built by the query itself.
 */
export interface TJobSummaryPage {
  count: number;
  results: TJobSummary[];
}

/** A test suite with its number of cases. */
export interface TTestSuiteRecord {
  id: number;
  jobId: number;
  name: string;
  caseCount: number;
}

/** One test case; `measurement` is LAVA's decimal as text (`"1.83"`) or null. */
export interface TTestCaseRecord {
  id: number;
  jobId: number;
  suiteId: number;
  suite: string;
  name: string;
  result: TTestResult;
  measurement: string | null;
  units: string;
  testSet: string | null;
  logged: Date;
  startLogLine: number | null;
  endLogLine: number | null;
  metadata: Record<string, unknown>;
}

/** Which test cases of a job to read (LAVA's results exports). */
export interface TCaseQuery {
  jobId: number;
  /** only this suite (by name) */
  suite?: string;
  /** only cases of this name (within `suite`) */
  caseName?: string;
  limit?: number;
  offset?: number;
}

/** A stored log line (protocol TLogLine: `line` index, `dt`, `lvl`, `msg`). */
export type TLogLineRecord = TLogLine;

/** One stored event: `id` is the stream's sequence number (resume after it). */
export interface TStoredEvent {
  id: number;
  topic: string;
  createdAt: Date;
  data: Record<string, unknown>;
}

/** A finished job as the reconciliation feed lists it; `end_time` is ISO 8601 with microseconds. */
export interface TFinishedJobRow {
  id: number;
  end_time: string;
  health: TJobHealth;
  test_case_count: number;
  log_line_count: number;
  /** stored form (see repositories/job-visibility.ts) */
  visibility: string;
  submitter: string;
}

/** A user as stored (LAVA's auth user). */
export interface TInstanceUser extends TInstanceViewer {
  createdAt: Date;
  /** LAVA's User.email ("" = none) */
  email: string;
}

/** A user with the names of its groups, sorted (admin CLI `user list`). */
export interface TUserWithGroups {
  username: string;
  isSuperuser: boolean;
  groups: string[];
}

/**
 * What a lab seed writes (already validated by the instance: health checks parse, devices name
 * known types and workers). Secrets are plain here; the repository stores digests (and a sealed
 * copy of API tokens when a key is given).
 */
export interface TLabSeed {
  users: {
    username: string;
    superuser: boolean;
    /** LAVA's User.email (notify `submitter_email`, email recipients); absent = left as stored */
    email?: string;
    tokens: { secret: string; description: string; federation: boolean }[];
    groups: string[];
  }[];
  workers: { hostname: string; token: string; description?: string; job_limit: number }[];
  device_types: {
    name: string;
    description?: string;
    health_check?: string;
    health_frequency: number;
    health_denominator: "hours" | "jobs";
    disable_health_check: boolean;
    dictionary: Record<string, unknown>;
  }[];
  devices: {
    hostname: string;
    device_type: string;
    worker: string;
    description?: string;
    tags: string[];
    health: TDeviceHealth;
    dictionary: Record<string, unknown>;
  }[];
}

/** A device with its type's and worker's names (inventory). */
export interface TDeviceRecord {
  hostname: string;
  deviceType: string;
  description: string | null;
  tags: string[];
  state: TDeviceState;
  health: TDeviceHealth;
  /** the worker's hostname, or null */
  worker: string | null;
  currentJobId: number | null;
  lastHealthReportJobId: number | null;
}

/** A device type (inventory; no dictionary or health check). */
export interface TDeviceTypeRecord {
  name: string;
  description: string | null;
  display: boolean;
  healthFrequency: number;
  healthDenominator: "hours" | "jobs";
  disableHealthCheck: boolean;
}

/** A worker (inventory); its token is never read. */
export interface TWorkerRecord {
  hostname: string;
  description: string | null;
  state: TWorkerState;
  health: TWorkerHealth;
  lastPing: Date | null;
  jobLimit: number;
  version: string | null;
}

/** A device as its administration reads it: the inventory fields, its dictionary and its type's. */
export interface TDeviceDetail extends TDeviceRecord {
  id: number;
  /** the device's own dictionary keys ({} when none) */
  dictionary: Record<string, unknown>;
  /** its device type's default dictionary ({} when none) */
  deviceTypeDictionary: Record<string, unknown>;
  /** the device's LAVA jinja2 dictionary text, or null (then `dictionary` is used) */
  dictionaryJinja2: string | null;
  /** the device type has a health-check definition */
  deviceTypeHasHealthCheck: boolean;
  /** health checks are disabled for the device type */
  deviceTypeHealthCheckDisabled: boolean;
}

/** A worker as its administration reads it, with its devices' hostnames. */
export interface TWorkerDetail extends TWorkerRecord {
  id: number;
  devices: string[];
}

/** A device type as its administration reads it, with its devices (health) and aliases, by name. */
export interface TDeviceTypeDetail extends TDeviceTypeRecord {
  id: number;
  healthCheckDefinition: string | null;
  /** the type's device-dictionary defaults ({} when none) */
  dictionary: Record<string, unknown>;
  /** the type's own jinja2 device-type template, or null (the shipped `<name>.jinja2` applies) */
  templateJinja2: string | null;
  devices: { hostname: string; health: TDeviceHealth }[];
  aliases: string[];
}

/** A job as the worker API checks it (see findJobForWorker). */
export interface TJobForWorker {
  id: number;
  /** SHA-256 digest of the job token, null until a ping handed the job out */
  tokenDigest: string | null;
  actualDeviceId: number | null;
  /** normalised definition (what the worker runs) */
  definition: string;
}
