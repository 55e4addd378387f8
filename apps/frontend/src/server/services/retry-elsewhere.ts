import {
  findRetryCandidate,
  findSubmission,
  findViewerByUserId,
  labsViewerMaySubmitTo,
  listInstances,
  moveTargetToLab,
  noteTargetError,
  type FrontendDb,
} from "@magma/db/frontend";
import type { Logger } from "pino";
import { enqueueSubmissionTargets } from "./create-submission.ts";
import { rankLabsForDeviceType } from "./place-submission.ts";

/** The error_type of a lab failure that a submission's `retry.infrastructure` may retry elsewhere. */
export const RETRYABLE_ERROR_TYPE = "Infrastructure";

export interface RetryElsewhereOptions {
  db: FrontendDb;
  /** the lab and the lab's job id that ended */
  instanceId: number;
  remoteJobId: number;
  /** the job's state, health and error_type as just ingested */
  state: string;
  health: string;
  errorType: string | null;
  /** Deadline of each lab's overview request, in ms. */
  timeoutMs: number;
  log: Logger;
}

/** What {@link retryElsewhere} did. */
export type TRetryOutcome =
  | { kind: "not-retryable" }
  | { kind: "exhausted"; placements: number }
  | { kind: "no-lab"; reason: string }
  | { kind: "moved"; lab: string; placement: number }
  | { kind: "already-moved" };

/**
 * Retry elsewhere (issue #13 item 4): when a lab job that a frontend submission placed ends
 * Finished/Incomplete with error_type Infrastructure and the submission's `retry.infrastructure`
 * allows another attempt, the target moves to the best other lab the submitter may use that offers
 * the device type (same placement policy as `labs: "any"`; a lab any target of the submission was
 * ever placed on is never chosen again) and is enqueued for delivery. Job errors, test failures,
 * cancellations and jobs not submitted through the frontend are left alone. Idempotent: a
 * re-delivered callback finds the target already moved (guarded update) and does nothing.
 */
export async function retryElsewhere(o: RetryElsewhereOptions): Promise<TRetryOutcome> {
  if (o.state !== "Finished" || o.health !== "Incomplete" || o.errorType !== RETRYABLE_ERROR_TYPE) return { kind: "not-retryable" };
  const c = await findRetryCandidate(o.db, o.instanceId, o.remoteJobId);
  if (!c || c.userId === null) return { kind: "not-retryable" };
  const log = o.log.child({ submissionId: c.submissionId, targetId: c.targetId, instanceId: o.instanceId, remoteJobId: o.remoteJobId });
  if (c.placements - 1 >= c.retryInfrastructure) {
    if (c.retryInfrastructure > 0) {
      await noteTargetError(o.db, c.targetId, `Infrastructure failure; retries exhausted (${c.retryInfrastructure})`);
      log.info({ retries: c.retryInfrastructure }, "infrastructure failure: retries exhausted");
    }
    return { kind: "exhausted", placements: c.placements };
  }
  const viewer = await findViewerByUserId(o.db, c.userId);
  if (!viewer) return { kind: "not-retryable" };
  const allowed = new Set(await labsViewerMaySubmitTo(o.db, viewer));
  const used = new Set(c.usedInstanceIds);
  const all = await listInstances(o.db);
  const eligible = all.filter((i) => allowed.has(i.name) && !used.has(i.id));
  const { ranked, refused } = await rankLabsForDeviceType({ labs: eligible, deviceType: c.deviceType, timeoutMs: o.timeoutMs });
  const best = ranked[0];
  if (!best) {
    const reason = eligible.length
      ? `Infrastructure failure; no other lab can take device type "${c.deviceType}" now (${refused.map((r) => `${r.lab}: ${r.reason}`).join("; ")})`
      : `Infrastructure failure; no other lab you may use is left to retry on`;
    await noteTargetError(o.db, c.targetId, reason);
    log.warn({ reason }, "infrastructure failure: cannot retry elsewhere");
    return { kind: "no-lab", reason };
  }
  const from = all.find((i) => i.id === o.instanceId)?.name;
  const moved = await moveTargetToLab(o.db, {
    targetId: c.targetId,
    fromInstanceId: o.instanceId,
    fromRemoteJobId: o.remoteJobId,
    to: { id: best.instance.id, name: best.instance.name },
    reason: `retrying on ${best.instance.name}: job ${o.remoteJobId} on ${from ?? `lab #${o.instanceId}`} failed with an Infrastructure error`,
  });
  if (!moved) return { kind: "already-moved" };
  const submission = await findSubmission(o.db, c.submissionId);
  if (submission) await enqueueSubmissionTargets(submission);
  log.info({ to: best.instance.name, placement: c.placements + 1 }, "infrastructure failure: retrying on another lab");
  return { kind: "moved", lab: best.instance.name, placement: c.placements + 1 };
}
