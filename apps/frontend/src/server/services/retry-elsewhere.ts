import {
  findRetryCandidate,
  findStrandedTargets,
  findSubmission,
  findViewerByUserId,
  labsViewerMaySubmitTo,
  listInstances,
  moveTargetToLab,
  noteTargetError,
  type FrontendDb,
  type TRetryCandidate,
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
  if (!c) return { kind: "not-retryable" };
  return moveElsewhere({
    db: o.db,
    candidate: c,
    fromInstanceId: o.instanceId,
    fromRemoteJobId: o.remoteJobId,
    why: "failed with an Infrastructure error",
    timeoutMs: o.timeoutMs,
    log: o.log,
  });
}

interface MoveElsewhereOptions {
  db: FrontendDb;
  candidate: TRetryCandidate;
  fromInstanceId: number;
  fromRemoteJobId: number;
  /** what happened to the job, for the target's note ("failed with an Infrastructure error") */
  why: string;
  timeoutMs: number;
  log: Logger;
}

/** Moves one retry candidate to the best other eligible lab (or notes why it cannot); see {@link retryElsewhere}. */
async function moveElsewhere({
  db,
  candidate: c,
  fromInstanceId,
  fromRemoteJobId,
  why,
  timeoutMs,
  log: parent,
}: MoveElsewhereOptions): Promise<TRetryOutcome> {
  if (c.userId === null) return { kind: "not-retryable" };
  const log = parent.child({
    submissionId: c.submissionId,
    targetId: c.targetId,
    instanceId: fromInstanceId,
    remoteJobId: fromRemoteJobId,
  });
  if (c.placements - 1 >= c.retryInfrastructure) {
    if (c.retryInfrastructure > 0) {
      await noteTargetError(db, c.targetId, `Infrastructure failure; retries exhausted (${c.retryInfrastructure})`);
      log.info({ retries: c.retryInfrastructure }, "infrastructure failure: retries exhausted");
    }
    return { kind: "exhausted", placements: c.placements };
  }
  const viewer = await findViewerByUserId(db, c.userId);
  if (!viewer) return { kind: "not-retryable" };
  const allowed = new Set(await labsViewerMaySubmitTo(db, viewer));
  const used = new Set(c.usedInstanceIds);
  const all = await listInstances(db);
  const eligible = all.filter((i) => allowed.has(i.name) && !used.has(i.id));
  const { ranked, refused } = await rankLabsForDeviceType({ labs: eligible, deviceType: c.deviceType, timeoutMs });
  const best = ranked[0];
  if (!best) {
    const reason = eligible.length
      ? `Infrastructure failure; no other lab can take device type "${c.deviceType}" now (${refused.map((r) => `${r.lab}: ${r.reason}`).join("; ")})`
      : `Infrastructure failure; no other lab you may use is left to retry on`;
    await noteTargetError(db, c.targetId, reason);
    log.warn({ reason }, "infrastructure failure: cannot retry elsewhere");
    return { kind: "no-lab", reason };
  }
  const from = all.find((i) => i.id === fromInstanceId)?.name;
  const moved = await moveTargetToLab(db, {
    targetId: c.targetId,
    fromInstanceId,
    fromRemoteJobId,
    to: { id: best.instance.id, name: best.instance.name },
    reason: `retrying on ${best.instance.name}: job ${fromRemoteJobId} on ${from ?? `lab #${fromInstanceId}`} ${why}`,
  });
  if (!moved) return { kind: "already-moved" };
  const submission = await findSubmission(db, c.submissionId);
  if (submission) await enqueueSubmissionTargets(submission);
  log.info({ to: best.instance.name, placement: c.placements + 1 }, "retrying on another lab");
  return { kind: "moved", lab: best.instance.name, placement: c.placements + 1 };
}

export interface RetryVanishedLabOptions {
  db: FrontendDb;
  instanceId: number;
  /** how long the lab has not answered, ms (for the note) */
  goneForMs: number;
  timeoutMs: number;
  log: Logger;
}

/**
 * Retry elsewhere for a lab that vanished (unreachable for longer than MAGMA_LAB_VANISHED_RETRY_MS):
 * every target submitted there whose job has not finished and whose submission has retries left
 * moves to another eligible lab, as after an Infrastructure failure (counted against the same
 * `retry.infrastructure`). The job on the vanished lab is not canceled (the lab cannot be reached).
 * @returns the outcome per moved-or-not target
 */
export async function retryVanishedLab({ db, instanceId, goneForMs, timeoutMs, log }: RetryVanishedLabOptions): Promise<TRetryOutcome[]> {
  const out: TRetryOutcome[] = [];
  for (const c of await findStrandedTargets(db, instanceId)) {
    out.push(
      await moveElsewhere({
        db,
        candidate: c,
        fromInstanceId: instanceId,
        fromRemoteJobId: c.remoteJobId!,
        why: `is stranded: the lab has not answered for ${Math.round(goneForMs / 1000)} s`,
        timeoutMs,
        log,
      }),
    );
  }
  return out;
}
