import { notifyCallbacks, type TNotify, type TNotifyPayload } from "@magma/protocol";
import type { InstanceTx, TestJob } from "@magma/db/instance";
import { buildNotifyPayload, type TDataset } from "./build-payload.ts";
import { substituteUrl } from "./substitute-url.ts";

/** Outbox `callbackIndex` of the federation callback (job callbacks use their 0-based position). */
export const FEDERATION_CALLBACK_INDEX = -1;

export interface EnqueueCallbacksOptions {
  tx: InstanceTx;
  /** the job AFTER the transition (state Running or Finished) */
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
 * - the federation callback (POST, json, dataset all; its `x-magma-token` header and signature are
 *   added at delivery from the configuration) on Running and Finished.
 * Running payloads are frozen now (the job will move on); Finished bodies are built at delivery.
 * @returns the number of rows inserted
 */
export async function enqueueCallbacks({ tx, job, instanceName, federation }: EnqueueCallbacksOptions): Promise<number> {
  if (job.state !== "Running" && job.state !== "Finished") return 0;
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
      dataset: "all",
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
      frozenPayload = await buildNotifyPayload({ db: tx, jobId: job.id, dataset: r.dataset, instanceName });
    }
    data.push({ jobId: job.id, transition, ...r, headers: {}, frozenPayload: frozenPayload as object | undefined });
  }
  const { count } = await tx.callbackOutbox.createMany({ data, skipDuplicates: true });
  return count;
}
