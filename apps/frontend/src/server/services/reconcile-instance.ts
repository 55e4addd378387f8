import { federatedJobSyncStates, getReconcileCursor, saveReconcileState, type FrontendDb, type TReconcileCursor } from "@magma/db/frontend";
import type { TFinishedJobsCursor } from "@magma/protocol";
import type { Logger } from "pino";
import { ingestCallback } from "./ingest-callback.ts";
import { describeFetchError, type TReachableLab } from "./instance-client.ts";
import type { TLabFinishedJob } from "./lab-client.ts";
import { labClientFor } from "./lab-client-for.ts";
import { queueTransfer } from "../queues/transfer-consumer.ts";

/**
 * How far before the stored cursor each pass re-reads the feed, in ms: a job's end_time is set
 * before its transaction commits, so a job may become visible after a later-ending one was seen.
 */
export const RECONCILE_OVERLAP_MS = 120_000;

export interface ReconcileInstanceOptions {
  db: FrontendDb;
  lab: TReachableLab;
  log: Logger;
  /** deadline of each HTTP request to the lab, ms */
  timeoutMs: number;
  /** feed page size */
  pageSize?: number;
  /** most pages read in one pass (the next pass continues from the cursor) */
  maxPages?: number;
}

export interface TReconcileResult {
  lab: string;
  /** finished jobs compared */
  checked: number;
  /** jobs missing or stale here and re-ingested */
  repaired: number;
  /** what stopped the pass early (the lab unreachable, …), or null */
  error: string | null;
}

/**
 * Does the frontend's copy of a finished job lack anything the lab has? A LAVA lab's feed has no
 * case count (`null`): its callback carries every result at once, so state and health decide.
 */
export function needsRepair(
  ref: Pick<TLabFinishedJob, "health" | "test_case_count">,
  mine: { state: string; health: string; caseCount: number } | undefined,
): boolean {
  return (
    !mine ||
    mine.state !== "Finished" ||
    mine.health !== ref.health ||
    (ref.test_case_count !== null && mine.caseCount < ref.test_case_count)
  );
}

/**
 * One reconciliation pass over one lab (a periodic loop runs it, see start-reconciler.ts): walks the
 * lab's finished jobs (Magma: `magma/finished-jobs/`; LAVA: its REST jobs list, see lava-client.ts) from the stored cursor (minus {@link RECONCILE_OVERLAP_MS}) in (end_time, id)
 * order, compares each with the frontend's copy (state, health, number of test cases) and, for a job
 * missing or stale here, fetches its federation payload from the lab and upserts it through the same
 * idempotent ingest as a delivered callback — so a callback lost with Redis, or dropped by a killed
 * consumer, is repaired, and a duplicate delivery still counts once.
 * The cursor advances only over jobs verified complete here, so a failure (the lab down) leaves it
 * before the first job not yet repaired.
 * @returns counts and the error that stopped the pass (never throws for lab/network errors)
 */
export async function reconcileInstance({
  db,
  lab,
  log,
  timeoutMs,
  pageSize = 200,
  maxPages = 20,
}: ReconcileInstanceOptions): Promise<TReconcileResult> {
  const client = labClientFor(lab);
  const stored = await getReconcileCursor(db, lab.id);
  let request: TFinishedJobsCursor | null = stored
    ? { since: new Date(Date.parse(stored.endTime) - RECONCILE_OVERLAP_MS).toISOString(), after_id: 0 }
    : null;
  let verified: TReconcileCursor | undefined;
  let checked = 0;
  let repaired = 0;
  let error: string | null = null;
  try {
    for (let page = 0; page < maxPages; page++) {
      const feed = await client.finishedJobs(request, pageSize, timeoutMs);
      const mine = await federatedJobSyncStates(
        db,
        lab.id,
        feed.results.map((r) => r.id),
      );
      for (const ref of feed.results) {
        checked++;
        if (needsRepair(ref, mine.get(ref.id))) {
          const { log: _log, token: _token, ...payload } = await client.federationPayload(ref.id, timeoutMs);
          const r = await ingestCallback({ db, job: { instance: lab.name, receivedAt: new Date().toISOString(), payload }, log });
          // a huge job: its cases and log come through its transfer (resumed from the stored cursor)
          if (r.transfer) await queueTransfer(lab.name, ref.id);
          repaired++;
          log.info(
            { lab: lab.name, remoteJobId: ref.id, had: mine.get(ref.id) ?? null, health: ref.health, cases: ref.test_case_count, ...r },
            "reconciliation repaired a job",
          );
        }
        // never move the stored cursor backwards (the overlap re-reads jobs before it)
        if (!stored || ref.end_time > stored.endTime || (ref.end_time === stored.endTime && ref.id > stored.jobId))
          verified = { endTime: ref.end_time, jobId: ref.id };
      }
      if (!feed.next) break;
      request = feed.next;
    }
  } catch (e) {
    error = describeFetchError(e, timeoutMs);
    log.warn({ lab: lab.name, err: error, checked, repaired }, "reconciliation pass stopped early");
  }
  await saveReconcileState(db, lab.id, verified, error);
  return { lab: lab.name, checked, repaired, error };
}
