import { FEDERATION_INLINE_CASES, notifyCallbacks, type TNotify, type TNotifyPayload } from "@magma/protocol";
import { txQuery, type DirectQuery, type InstanceTx, type TestJob } from "@magma/db/instance";
import { buildNotifyPayload, type TDataset } from "./build-payload.ts";
import { substituteUrl } from "./substitute-url.ts";

/** Outbox `callbackIndex` of the federation callback (job callbacks use their 0-based position). */
export const FEDERATION_CALLBACK_INDEX = -1;

/**
 * Job states pushed to the federation frontend: every state a job can be seen in, so the federated
 * job list shows queued and running jobs (LAVA itself only fires `notify` callbacks on Running and
 * Finished; those keep LAVA's rule). Scheduling is a transient state inside one scheduler pass.
 */
export const FEDERATED_TRANSITIONS = ["Submitted", "Scheduled", "Running", "Canceling", "Finished"] as const;

export interface EnqueueCallbacksOptions {
  tx: InstanceTx;
  /** the job AFTER the transition (any state of FEDERATED_TRANSITIONS; notify callbacks fire on Running and Finished only) */
  job: TestJob;
  instanceName: string;
  federation: { url: string } | null;
}

/** Does `criteria.status` fire on this transition? (LAVA notifications.py semantics) */
export function criteriaMatches(status: TNotify["criteria"]["status"], job: Pick<TestJob, "state" | "health">): boolean {
  if (job.state === "Running") return status === "running" || status === "all";
  if (job.state !== "Finished") return false;
  switch (status) {
    case "finished":
    case "all":
      return true;
    case "complete":
      return job.health === "Complete";
    case "incomplete":
      return job.health === "Incomplete";
    case "canceled":
      return job.health === "Canceled";
    default:
      return false;
  }
}

/**
 * Inserts the outbox rows of one job transition, inside the transaction that changed the state, so a
 * committed transition always has its callbacks and a rolled-back one has none. Unique
 * (job, transition, callbackIndex) makes a repeated call a no-op. No secret is written to the row:
 *
 * - each `notify` callback whose criteria match: URL placeholders substituted, method GET (default) or
 *   POST, `token` resolved as LAVA does but only against the SUBMITTER's own API tokens: a token equal
 *   to the description of one of them is stored as a reference (`tokenId`) and its sealed secret is
 *   sent at delivery; otherwise (no such token, or the token has no sealed copy because the instance
 *   has no MAGMA_SECRET_KEY) the value is sent literally. The token goes in header `header` (default
 *   Authorization) only, never in the body (LAVA 2025+);
 * - the federation callback (POST, json, dataset results bounded by FEDERATION_INLINE_CASES, no log;
 *   its `x-magma-token` header and signature are added at delivery from the configuration) on every
 *   state of {@link FEDERATED_TRANSITIONS}.
 * Running payloads are frozen now without the token (the job will move on); the other bodies are built
 * at delivery, so a Submitted/Scheduled/Canceling row delivered late reports the job's current state
 * (never older than the transition; the frontend ingests monotonically, so order does not matter).
 * @returns the number of rows inserted
 */
export async function enqueueCallbacks({ tx, job, instanceName, federation }: EnqueueCallbacksOptions): Promise<number> {
  if (!(FEDERATED_TRANSITIONS as readonly string[]).includes(job.state)) return 0;
  const transition = job.state;
  const rows: {
    callbackIndex: number;
    url: string;
    method: string;
    contentType: string;
    dataset: TDataset;
    token: string | null;
    tokenId: number | null;
    tokenHeader: string | null;
  }[] = [];

  const notify = job.notify as TNotify | null;
  if (notify && criteriaMatches(notify.criteria.status, job)) {
    const callbacks = notifyCallbacks(notify);
    for (const [i, cb] of callbacks.entries()) {
      let token: string | null = cb.token ?? null;
      let tokenId: number | null = null;
      if (token !== null) {
        const named = await tx.apiToken.findFirst({
          where: { userId: job.submitterId, description: token, secretSealed: { not: null } },
          select: { id: true },
          orderBy: { id: "asc" },
        });
        if (named) {
          tokenId = named.id;
          token = null;
        }
      }
      rows.push({
        callbackIndex: i,
        url: substituteUrl(cb.url, job),
        method: cb.method ?? "GET",
        contentType: cb["content-type"] ?? "urlencoded",
        dataset: cb.dataset ?? "minimal",
        token,
        tokenId,
        tokenHeader: token !== null || tokenId !== null ? (cb.header ?? "Authorization") : null,
      });
    }
  }
  if (federation) {
    rows.push({
      callbackIndex: FEDERATION_CALLBACK_INDEX,
      url: federation.url,
      method: "POST",
      contentType: "json",
      // results (at most FEDERATION_INLINE_CASES of them) but never the log: the frontend pulls the
      // log by line ranges, and the cases of a bigger job page by page
      dataset: "results",
      token: null,
      tokenId: null,
      tokenHeader: null,
    });
  }
  if (rows.length === 0) return 0;

  const data = [];
  for (const r of rows) {
    let frozenPayload: TNotifyPayload | undefined;
    if (transition === "Running" && r.method === "POST") {
      frozenPayload = await buildNotifyPayload({
        db: tx,
        jobId: job.id,
        dataset: r.dataset,
        instanceName,
        ...(r.callbackIndex === FEDERATION_CALLBACK_INDEX ? { inlineCasesLimit: FEDERATION_INLINE_CASES } : {}),
      });
    }
    data.push({ jobId: job.id, transition, ...r, headers: {}, frozenPayload: frozenPayload as object | undefined });
  }
  const { count } = await tx.callbackOutbox.createMany({ data, skipDuplicates: true });
  return count;
}

/**
 * The federation callback outbox row of one job transition, for writers that change many jobs in
 * one statement (the scheduler) or insert the job itself (submission): POST json dataset `results`, body
 * built at delivery. Null when the instance has no federation callback URL.
 */
export function federationOutboxRow(transition: (typeof FEDERATED_TRANSITIONS)[number], federation: { url: string } | null) {
  if (!federation) return null;
  return {
    transition,
    callbackIndex: FEDERATION_CALLBACK_INDEX,
    url: federation.url,
    method: "POST",
    contentType: "json",
    dataset: "results",
    headers: {},
  };
}

/**
 * Inserts the federation callback rows of jobs that all made the same transition in one statement
 * (inside its transaction; duplicates are skipped by the outbox's unique key, as `createMany`'s
 * `skipDuplicates`), through the transaction's `query` (the `pg` connection, or Prisma's via txQuery).
 * @returns the number of rows inserted (0 without a federation URL)
 */
export async function insertFederationCallbacks(
  query: DirectQuery,
  jobIds: number[],
  transition: (typeof FEDERATED_TRANSITIONS)[number],
  federation: { url: string } | null,
): Promise<number> {
  const row = federationOutboxRow(transition, federation);
  if (!row || !jobIds.length) return 0;
  const inserted = await query(
    "outbox_federation_rows",
    `INSERT INTO callback_outbox (job_id, transition, callback_index, url, method, content_type, dataset, headers)
     SELECT j, $2, $3, $4, $5, $6, $7, $8::jsonb FROM unnest($1::int[]) AS j
     ON CONFLICT DO NOTHING
     RETURNING 1 AS one`,
    [jobIds, row.transition, row.callbackIndex, row.url, row.method, row.contentType, row.dataset, JSON.stringify(row.headers)],
  );
  return inserted.length;
}

/** {@link insertFederationCallbacks} inside a Prisma transaction. */
export async function enqueueFederationCallbacks(
  tx: InstanceTx,
  jobIds: number[],
  transition: (typeof FEDERATED_TRANSITIONS)[number],
  federation: { url: string } | null,
): Promise<number> {
  return insertFederationCallbacks(txQuery(tx), jobIds, transition, federation);
}
