/**
 * LAVA's lifecycle enums (lava_scheduler_app/models.py), with the integer values that
 * LAVA's database, XML-RPC and notify callbacks carry. Names are what REST and lavacli show.
 */

/** TestJob.state — LAVA ints: 0 Submitted … 5 Finished. */
export const JOB_STATES = ["Submitted", "Scheduling", "Scheduled", "Running", "Canceling", "Finished"] as const;
export type TJobState = (typeof JOB_STATES)[number];

/** TestJob.health — LAVA ints: 0 Unknown, 1 Complete, 2 Incomplete, 3 Canceled. */
export const JOB_HEALTHS = ["Unknown", "Complete", "Incomplete", "Canceled"] as const;
export type TJobHealth = (typeof JOB_HEALTHS)[number];

/** Device.state — derived cache: 0 Idle, 1 Reserved, 2 Running. */
export const DEVICE_STATES = ["Idle", "Reserved", "Running"] as const;
export type TDeviceState = (typeof DEVICE_STATES)[number];

/** Device.health — 0 Good, 1 Unknown, 2 Looping, 3 Bad, 4 Maintenance, 5 Retired. */
export const DEVICE_HEALTHS = ["Good", "Unknown", "Looping", "Bad", "Maintenance", "Retired"] as const;
export type TDeviceHealth = (typeof DEVICE_HEALTHS)[number];

/** Worker.state — 0 Online, 1 Offline. Worker.health — 0 Active, 1 Maintenance, 2 Retired. */
export const WORKER_STATES = ["Online", "Offline"] as const;
export type TWorkerState = (typeof WORKER_STATES)[number];
export const WORKER_HEALTHS = ["Active", "Maintenance", "Retired"] as const;
export type TWorkerHealth = (typeof WORKER_HEALTHS)[number];

/** LAVA's error_type values for an Incomplete job (lava_common/exceptions.py). */
export const ERROR_TYPES = [
  "Infrastructure",
  "Job",
  "Test",
  "Bug",
  "Configuration",
  "Canceled",
  "LAVATimeout",
  "MultinodeTimeout",
] as const;
export type TErrorType = (typeof ERROR_TYPES)[number];

/**
 * A job state read back from storage, checked.
 * @throws Error `unknown job state "X"` when `s` is not one of {@link JOB_STATES}
 */
export function toJobState(s: string): TJobState {
  if ((JOB_STATES as readonly string[]).includes(s)) return s as TJobState;
  throw new Error(`unknown job state "${s}" (expected one of ${JOB_STATES.join(", ")})`);
}

/**
 * A job health read back from storage, checked.
 * @throws Error `unknown job health "X"` when `s` is not one of {@link JOB_HEALTHS}
 */
export function toJobHealth(s: string): TJobHealth {
  if ((JOB_HEALTHS as readonly string[]).includes(s)) return s as TJobHealth;
  throw new Error(`unknown job health "${s}" (expected one of ${JOB_HEALTHS.join(", ")})`);
}

/** Integer value of a job state, as LAVA's DB / callbacks carry it. */
export const jobStateInt = (s: TJobState): number => JOB_STATES.indexOf(s);
/** Integer value of a job health, as LAVA's DB / callbacks carry it. */
export const jobHealthInt = (h: TJobHealth): number => JOB_HEALTHS.indexOf(h);

/**
 * LAVA's legacy `status` (callbacks, `{STATUS}` URL placeholder):
 * 0 Submitted (state < Running), 1 Running, 2 Complete, 3 Incomplete (or Unknown), 4 Canceled, 5 Canceling.
 */
export function legacyStatus(state: TJobState, health: TJobHealth): { status: number; statusString: string } {
  if (state === "Running") return { status: 1, statusString: "running" };
  if (state === "Canceling") return { status: 5, statusString: "canceling" };
  if (state === "Finished") {
    if (health === "Complete") return { status: 2, statusString: "complete" };
    if (health === "Canceled") return { status: 4, statusString: "canceled" };
    return { status: 3, statusString: "incomplete" };
  }
  return { status: 0, statusString: "submitted" };
}

/** LAVA's priority names: low 0, medium 50 (default), high 100. */
export const PRIORITY_NAMES = { low: 0, medium: 50, high: 100 } as const;

/**
 * Allowed job state transitions (LAVA's go_state_* methods). A transition to a state at or
 * before the current one is a no-op, never an error, so duplicate worker messages are harmless.
 */
export const JOB_TRANSITIONS: Record<TJobState, readonly TJobState[]> = {
  Submitted: ["Scheduling", "Scheduled", "Finished"],
  Scheduling: ["Scheduled", "Finished"],
  Scheduled: ["Running", "Canceling", "Finished"],
  Running: ["Canceling", "Finished"],
  Canceling: ["Finished"],
  Finished: [],
};
