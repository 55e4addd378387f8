import { z } from "zod";
import { ZNotifyPayload } from "../notify/payload.ts";

/**
 * BullMQ queues of the frontend. Job ids are deterministic so a retried producer never adds a
 * second job (BullMQ de-duplicates by id); ids never contain ':' and are never all digits
 * (BullMQ job-ids.md).
 */
export const QUEUE_NAMES = {
  /** notify callbacks received from instances, waiting to be ingested. */
  callbacks: "magma-callbacks",
  /** cross-lab submission fan-out: one queue job per (submission, lab). */
  submissions: "magma-submissions",
  /** huge jobs: the pull of one job's paged results and log line ranges from its lab. */
  transfers: "magma-transfers",
} as const;

const safe = (s: string | number) => String(s).replace(/[^A-Za-z0-9_.-]/g, "_");

/**
 * `notify-<instance>-<job>-<state>-<health>`: one ingest per job transition; a live-results push
 * (`magma.live_results`, many per Running job) adds `-live<through>`, so each push is one ingest and
 * a re-delivered push maps to the same id.
 */
export function callbackJobId(instance: string, jobId: number, state: string, health: string, liveThrough?: number): string {
  const live = liveThrough !== undefined ? `-live${liveThrough}` : "";
  return `notify-${safe(instance)}-${jobId}-${safe(state)}-${safe(health)}${live}`;
}
/** `submit-<submissionId>-<lab>`: one fan-out job per target. */
export function submissionJobId(submissionId: string, lab: string): string {
  return `submit-${safe(submissionId)}-${safe(lab)}`;
}

/** `transfer-<lab>-<job>`: one pull of a job's results and log at a time. */
export function transferJobId(lab: string, jobId: number): string {
  return `transfer-${safe(lab)}-${jobId}`;
}

/** Payload of a `magma-transfers` queue job: which lab's job to pull (cursors live in the database). */
export const ZTransferQueueJob = z.object({
  lab: z.string().min(1),
  remoteId: z.number().int().positive(),
});
export type TTransferQueueJob = z.infer<typeof ZTransferQueueJob>;

/** Payload of a `magma-callbacks` queue job: the instance that sent it and LAVA's callback body. */
export const ZCallbackQueueJob = z.object({
  instance: z.string().min(1),
  receivedAt: z.string(),
  payload: ZNotifyPayload,
});
export type TCallbackQueueJob = z.infer<typeof ZCallbackQueueJob>;

/** Payload of a `magma-submissions` queue job: one target of a submission. */
export const ZSubmissionQueueJob = z.object({
  submissionId: z.string().min(1),
  targetId: z.string().min(1),
  lab: z.string().min(1),
});
export type TSubmissionQueueJob = z.infer<typeof ZSubmissionQueueJob>;
