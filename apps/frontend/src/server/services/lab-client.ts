import type { TFinishedJobsCursor, TInstanceOverview, TLogLine, TJobHealth, TNotifyPayload } from "@magma/protocol";
import type { TInstanceRecord } from "@magma/db/frontend";

/** A lab the frontend reaches at its URL (inbound); outbound-only labs have none and are never called. */
export type TReachableLab = TInstanceRecord & { url: string };

/**
 * The one seam between the frontend's federation logic and a lab's own API. Every lab kind has an
 * implementation, picked by the lab's `kind` (see lab-client-for.ts):
 *  - `magma` (instance-client.ts): a Magma instance — LAVA's REST API v0.2 plus Magma's extensions
 *    (`magma/overview/`, `magma/finished-jobs/`, `magma/jobs/<id>/federation/`, SSE log stream,
 *    idempotent submit, submitter header);
 *  - `lava` (lava-client.ts): an unchanged LAVA server (2023.01+), REST API v0.2 only.
 * Every call has a deadline and throws LabHttpError (non-2xx) or a plain Error (network, timeout).
 */
export interface LabClient {
  readonly lab: TReachableLab;
  /** Workers, devices, device types and queue counts for the labs page and submission checks. */
  overview(timeoutMs: number): Promise<TInstanceOverview>;
  /**
   * Submits one definition.
   * @param idempotencyKey same key → same job (Magma: Idempotency-Key header; LAVA: a marker in the callback URL)
   * @param submitter frontend user the job is for (Magma records it; LAVA records the token's user)
   * @returns the lab's job ids
   */
  submit(definition: string, opts: { idempotencyKey: string; submitter: string | null; timeoutMs: number }): Promise<number[]>;
  /** The job's log lines from line `start` (0-based) on. */
  jobLog(jobId: number, start: number, timeoutMs: number): Promise<TLogLine[]>;
  /** The lab's Server-Sent Events log stream, unread (LAVA has none: rejects, the page then polls). */
  openLogStream(jobId: number, start: number, signal: AbortSignal): Promise<Response>;
  /** One page of finished jobs strictly after `after` in (end_time, id) order (the reconciliation feed). */
  finishedJobs(after: TFinishedJobsCursor | null, limit: number, timeoutMs: number): Promise<TLabFinishedJobsPage>;
  /** The job as a notify payload (`dataset: results`), for re-ingest by reconciliation. */
  federationPayload(jobId: number, timeoutMs: number): Promise<TNotifyPayload>;
  /**
   * Cancels the job (LAVA's `jobs/<id>/cancel/`: Submitted → Canceled, Scheduled/Running → Canceling;
   * a finished job is left alone). `submitter`: the job's submitter, whom Magma lets the frontend's
   * token act as (LAVA uses the token's own user, which must be allowed to cancel the job).
   */
  cancel(jobId: number, opts: { submitter: string | null; timeoutMs: number }): Promise<void>;
}

/** A finished job of the reconciliation feed; `test_case_count` null when the lab does not say (LAVA). */
export interface TLabFinishedJob {
  id: number;
  end_time: string;
  health: TJobHealth;
  test_case_count: number | null;
}

/** A page of the feed; `next` is null at the end. */
export interface TLabFinishedJobsPage {
  results: TLabFinishedJob[];
  next: TFinishedJobsCursor | null;
}
