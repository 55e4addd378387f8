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
} as const;

const safe = (s: string | number) => String(s).replace(/[^A-Za-z0-9_.-]/g, "_");

/** `notify-<instance>-<job>-<state>-<health>`: one ingest per job transition. */
export function callbackJobId(instance: string, jobId: number, state: string, health: string): string {
  return `notify-${safe(instance)}-${jobId}-${safe(state)}-${safe(health)}`;
}
/** `submit-<submissionId>-<lab>`: one fan-out job per target. */
export function submissionJobId(submissionId: string, lab: string): string {
  return `submit-${safe(submissionId)}-${safe(lab)}`;
}

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
