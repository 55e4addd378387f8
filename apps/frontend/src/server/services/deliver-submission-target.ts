import {
  findSubmissionTargetWork,
  markTargetFailed,
  markTargetSubmitted,
  recordSubmissionAttempt,
  type FrontendDb,
} from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { describeFetchError, LabHttpError } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";
import { LabConfigError } from "./lava-client.ts";

/** How a delivery attempt ended; `retry` means the caller should throw so BullMQ retries. */
export type TDeliveryOutcome =
  | { kind: "submitted"; remoteJobId: number; already: boolean }
  | { kind: "rejected"; error: string }
  | { kind: "retry"; error: string }
  | { kind: "gone" }
  | { kind: "awaiting-lab" };

export interface DeliverSubmissionTargetOptions {
  db: FrontendDb;
  targetId: string;
  /** True on the queue job's last attempt: a retryable failure then marks the target failed. */
  lastAttempt: boolean;
  timeoutMs: number;
  log: Logger;
}

/**
 * Submits one target's definition to its lab with `Idempotency-Key: <submissionId>-<lab>`, so a
 * retried queue job never creates a second lab job, and `X-Magma-Submitter: <user>`, so the lab
 * records the frontend user (mapped to a lab user of that name) as the job's submitter.
 *
 * Outcomes:
 *  1. target unknown → gone
 *  2. already submitted → submitted (already: true), nothing sent
 *  3. 2xx → target submitted with the lab's job id
 *  4. 4xx (other than 408/429) → target failed with the lab's message: retrying cannot help; so
 *     does a LAVA lab the frontend cannot submit to as configured (no MAGMA_FRONTEND_PUBLIC_URL for
 *     its callback) or a definition whose `notify:` block cannot take the frontend's callback
 *  5. network error, timeout, 408/429/5xx → retry (error noted on the target); on the last
 *     attempt the target is marked failed
 *  6. an outbound-only lab (no URL) → awaiting-lab: nothing is sent, the target stays queued until
 *     the lab pulls it over its link and acknowledges it (lab-link.ts)
 */
export async function deliverSubmissionTarget({
  db,
  targetId,
  lastAttempt,
  timeoutMs,
  log,
}: DeliverSubmissionTargetOptions): Promise<TDeliveryOutcome> {
  const work = await findSubmissionTargetWork(db, targetId);
  if (!work) return { kind: "gone" };
  if (work.status === "submitted" && work.remoteJobId !== null) return { kind: "submitted", remoteJobId: work.remoteJobId, already: true };
  const url = work.instance.url;
  if (url === null) {
    log.info({ targetId, lab: work.instance.name }, "submission target queued for outbound lab");
    return { kind: "awaiting-lab" };
  }
  const key = `${work.submissionId}-${work.instance.name}`;
  try {
    const [remoteJobId] = await labClientFor({ ...work.instance, url }).submit(work.definition, {
      idempotencyKey: key,
      submitter: work.submitter,
      timeoutMs,
    });
    await recordSubmissionAttempt(db, targetId, null);
    await markTargetSubmitted(db, targetId, remoteJobId!);
    log.info({ targetId, lab: work.instance.name, remoteJobId }, "submission target submitted");
    return { kind: "submitted", remoteJobId: remoteJobId!, already: false };
  } catch (e) {
    const refusedHere = e instanceof LabConfigError || e instanceof AppError;
    const permanent =
      refusedHere || (e instanceof LabHttpError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429);
    const error = refusedHere
      ? `${work.instance.name}: ${(e as Error).message}`
      : e instanceof LabHttpError
        ? `${work.instance.name} answered HTTP ${e.status}: ${e.message}`
        : `${work.instance.name} unreachable: ${describeFetchError(e, timeoutMs)}`;
    await recordSubmissionAttempt(db, targetId, permanent || lastAttempt ? null : `retrying: ${error}`);
    if (permanent || lastAttempt) {
      await markTargetFailed(db, targetId, permanent ? (e as Error).message : `gave up after retries: ${error}`);
      log.warn({ targetId, lab: work.instance.name, error }, "submission target failed");
      return { kind: "rejected", error };
    }
    log.warn({ targetId, lab: work.instance.name, error }, "submission target delivery failed, will retry");
    return { kind: "retry", error };
  }
}
