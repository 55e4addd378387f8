import { FEDERATION_INLINE_CASES } from "@magma/protocol";
import type { InstanceTx } from "@magma/db/instance";
import { inTransaction, type InstanceContext } from "../context.ts";
import { buildNotifyPayload } from "./build-payload.ts";
import { FEDERATION_CALLBACK_INDEX } from "./enqueue-callbacks.ts";

/** Default wait between two live-results pushes of one job, ms (MAGMA_LIVE_RESULTS_INTERVAL_MS). */
export const LIVE_RESULTS_INTERVAL_MS = 1_000;
/** Most cases one live push carries (the federation callback's inline bound); the rest follow in the next push. */
export const LIVE_RESULTS_MAX_CASES = FEDERATION_INLINE_CASES;
/** Outbox `transition` of a live push: `Results:<last case id it carries>`. */
export const LIVE_TRANSITION_PREFIX = "Results:";

/**
 * The live-results cursor of a job: the highest case id a live push of it already carries (0 when
 * none), read from the federation outbox rows `Results:<id>` (delivered or not: a pending row is
 * delivered by the outbox, never re-built).
 */
export async function liveResultsCursor(tx: InstanceTx, jobId: number): Promise<number> {
  // transition = LIVE_TRANSITION_PREFIX ("Results:") + the case id
  const rows = await tx.$queryRaw<{ through: number | null }[]>`
    SELECT max(split_part(transition, ':', 2)::int) AS through
    FROM callback_outbox
    WHERE job_id = ${jobId} AND callback_index = ${FEDERATION_CALLBACK_INDEX} AND transition LIKE 'Results:%'`;
  return rows[0]?.through ?? 0;
}

/**
 * Queues one live-results push of a Running job, in one transaction with the job row locked (`FOR
 * UPDATE`, as log ingestion, so no case of it is being recorded meanwhile): the cases recorded after
 * the job's cursor ({@link liveResultsCursor}), at most {@link LIVE_RESULTS_MAX_CASES}, frozen into a
 * federation outbox row `Results:<last case id>` (POST json, dataset results, `magma.live_results`
 * = `{after, through}`, the job's fields as they are now, i.e. Running). The row goes through the
 * durable outbox like every federation callback (retries, delivery id, signature); the unique
 * (job, transition, callback) key makes a repeated push of the same cases a no-op. The outbox is
 * woken after commit.
 * Nothing is queued when the lab has no federation callback URL, the job is not Running (its
 * Finished callback carries every case) or no case was recorded since the last push; nor while the
 * job's previous live push is still pending in the outbox (at most one live row per job waits, so an
 * unreachable frontend does not pile rows up: the next push, once it is delivered, carries the cases).
 * @returns `queued`: a row was inserted; `more`: cases may be waiting beyond this push (the limit
 *   was hit, or the previous push is not delivered yet): try again after the interval
 */
export async function queueLiveResults(ctx: InstanceContext, jobId: number): Promise<{ queued: boolean; more: boolean }> {
  return inTransaction(ctx, async ({ tx, effects, federation, instanceName }) => {
    if (!federation) return { queued: false, more: false };
    const locked = await tx.$queryRaw<{ state: string }[]>`SELECT state::text AS state FROM test_jobs WHERE id = ${jobId} FOR UPDATE`;
    if (locked[0]?.state !== "Running") return { queued: false, more: false };
    // one live push of a job in the outbox at a time: while the frontend cannot be reached, the cases
    // wait on the lab (and go in the next push, or with Finished) instead of piling up rows
    const waiting = await tx.callbackOutbox.findFirst({
      where: { jobId, callbackIndex: FEDERATION_CALLBACK_INDEX, state: "pending", transition: { startsWith: LIVE_TRANSITION_PREFIX } },
      select: { id: true },
    });
    if (waiting) return { queued: false, more: true };
    const afterId = await liveResultsCursor(tx, jobId);
    const payload = await buildNotifyPayload({
      db: tx,
      jobId,
      dataset: "results",
      instanceName,
      liveCases: { afterId, limit: LIVE_RESULTS_MAX_CASES },
    });
    const live = payload.magma?.live_results;
    if (!live) return { queued: false, more: false };
    const { count } = await tx.callbackOutbox.createMany({
      data: [
        {
          jobId,
          transition: `${LIVE_TRANSITION_PREFIX}${live.through}`,
          callbackIndex: FEDERATION_CALLBACK_INDEX,
          url: federation.url,
          method: "POST",
          contentType: "json",
          dataset: "results",
          headers: {},
          frozenPayload: payload as object,
        },
      ],
      skipDuplicates: true,
    });
    if (count) effects.wakeOutbox();
    const next = await tx.testCase.findFirst({ where: { jobId, id: { gt: live.through } }, select: { id: true } });
    return { queued: count > 0, more: next !== null };
  });
}

/**
 * Pushes the test cases of Running jobs to the federation frontend while they run (issue 13), at
 * most once per `intervalMs` per job: the first case recorded arms a timer for the job; when it
 * fires, {@link queueLiveResults} queues every case recorded since the previous push (bounded; a
 * remainder, or a previous push not yet delivered, re-arms the timer until the job leaves Running).
 * Cases recorded while a push is being queued re-arm it afterwards.
 * Timers live in memory only: after a restart the job's next recorded case arms one again, from the
 * cursor kept in the outbox, and the Finished callback carries every case whatever happened to the
 * live pushes. A failing push is logged and retried at the next recorded case.
 * Disabled (no-op) when `intervalMs` is 0 or the lab is not federated.
 */
export class LiveResultsPusher {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();
  private stopped = false;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly intervalMs = LIVE_RESULTS_INTERVAL_MS,
  ) {}

  /** A log batch of `jobId` recorded test cases (called after its transaction committed). */
  casesRecorded(jobId: number): void {
    if (this.stopped || this.intervalMs <= 0 || !this.ctx.config.federationCallbackUrl) return;
    if (this.inFlight.has(jobId)) {
      this.again.add(jobId);
      return;
    }
    if (this.timers.has(jobId)) return;
    const t = setTimeout(() => {
      this.timers.delete(jobId);
      this.push(jobId);
    }, this.intervalMs);
    this.timers.set(jobId, t);
  }

  /** Stops the timers and waits for pushes being queued (cases not yet pushed go with the Finished callback). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.inFlight.values());
  }

  private push(jobId: number): void {
    if (this.stopped) return;
    const p = queueLiveResults(this.ctx, jobId)
      .then(({ queued, more }) => {
        if (queued) this.ctx.logger.debug({ jobId, more }, "live results queued");
        if (more) this.again.add(jobId);
      })
      .catch((e: unknown) => {
        this.ctx.logger.warn({ jobId, err: (e as Error).message }, "live results push failed; the next recorded case retries it");
      })
      .finally(() => {
        this.inFlight.delete(jobId);
        if (this.again.delete(jobId)) this.casesRecorded(jobId);
      });
    this.inFlight.set(jobId, p);
  }
}
