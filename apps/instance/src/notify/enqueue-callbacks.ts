import { FEDERATION_TOKEN_HEADER, notifyCallbacks, type TNotify } from "@magma/protocol";
import type { InstanceTx, TestJob } from "@magma/db/instance";
import { buildNotifyPayload, urlencodePayload, type TDataset } from "./build-payload.ts";
import { substituteUrl } from "./substitute-url.ts";

/** Outbox `callbackIndex` of the federation callback (job callbacks use their 0-based position). */
export const FEDERATION_CALLBACK_INDEX = -1;

export interface EnqueueCallbacksOptions {
  tx: InstanceTx;
  /** the job AFTER the transition (state Running or Finished) */
  job: TestJob;
  instanceName: string;
  federation: { url: string; token: string | null } | null;
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
 * (job, transition, callbackIndex) makes a repeated call a no-op.
 *
 * - each `notify` callback whose criteria match: URL placeholders substituted, method GET (default) or
 *   POST, `token` resolved as LAVA does (a token equal to the DESCRIPTION of one of the submitter's
 *   API tokens is replaced by its secret, else sent literally) in header `header` (default
 *   Authorization) and in the body;
 * - the federation callback (POST, json, dataset all, `x-magma-token`) on Running and Finished.
 * Running bodies are frozen now (the job will move on); Finished bodies are built at delivery.
 * @returns the number of rows inserted
 */
export async function enqueueCallbacks({ tx, job, instanceName, federation }: EnqueueCallbacksOptions): Promise<number> {
  if (job.state !== "Running" && job.state !== "Finished") return 0;
  const transition = job.state;
  const rows: {
    callbackIndex: number;
    url: string;
    method: string;
    headers: Record<string, string>;
    contentType: string;
    dataset: TDataset;
    token: string | null;
  }[] = [];

  const notify = job.notify as TNotify | null;
  if (notify && criteriaMatches(notify.criteria.status, job)) {
    const callbacks = notifyCallbacks(notify);
    for (const [i, cb] of callbacks.entries()) {
      let token: string | null = cb.token ?? null;
      if (token !== null) {
        const named = await tx.apiToken.findFirst({ where: { userId: job.submitterId, description: token }, select: { secret: true } });
        if (named) token = named.secret;
      }
      const headers: Record<string, string> = token !== null ? { [cb.header ?? "Authorization"]: token } : {};
      rows.push({
        callbackIndex: i,
        url: substituteUrl(cb.url, job),
        method: cb.method ?? "GET",
        headers,
        contentType: cb["content-type"] ?? "urlencoded",
        dataset: cb.dataset ?? "minimal",
        token,
      });
    }
  }
  if (federation) {
    rows.push({
      callbackIndex: FEDERATION_CALLBACK_INDEX,
      url: federation.url,
      method: "POST",
      headers: federation.token ? { [FEDERATION_TOKEN_HEADER]: federation.token } : {},
      contentType: "json",
      dataset: "all",
      token: null,
    });
  }
  if (rows.length === 0) return 0;

  const data = [];
  for (const r of rows) {
    let body: string | null = null;
    if (transition === "Running" && r.method === "POST") {
      const p = await buildNotifyPayload({ db: tx, jobId: job.id, dataset: r.dataset, token: r.token, instanceName });
      body = r.contentType === "json" ? JSON.stringify(p) : urlencodePayload(p);
    }
    data.push({ jobId: job.id, transition, ...r, body });
  }
  const { count } = await tx.callbackOutbox.createMany({ data, skipDuplicates: true });
  return count;
}
