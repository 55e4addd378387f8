import {
  INSTANCE_API_PREFIX,
  ZFinishedJobsPage,
  ZInstanceOverview,
  ZJobCasesPage,
  type TJobCasesPage,
  ZLogLine,
  ZNotifyPayload,
  SUBMITTER_HEADER,
  ZSubmitJobResponse,
  type TFinishedJobsCursor,
  type TFinishedJobsPage,
  type TInstanceOverview,
  type TLogLine,
  type TNotifyPayload,
} from "@magma/protocol";
import type { TInstanceRecord } from "@magma/db/frontend";
import { z } from "zod";
import { openSecret } from "../auth/secret-box.ts";
import type { LabClient, TReachableLab } from "./lab-client.ts";

/**
 * HTTP client of one lab's public REST API (packages/protocol instance-api). The frontend talks
 * to instances only through these calls. Every call has a deadline (`timeoutMs`) and throws
 * {@link LabHttpError} for non-2xx answers or a plain Error for network failures and timeouts.
 */

export type { TReachableLab };

/** The lab as a {@link TReachableLab}, or null for an outbound-only lab. */
export function reachableLab(lab: TInstanceRecord): TReachableLab | null {
  return lab.url === null ? null : { ...lab, url: lab.url };
}

/** A lab answered with a non-2xx status; `message` is the lab's own `{message}` when it sent one. */
export class LabHttpError extends Error {
  constructor(
    readonly lab: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "LabHttpError";
  }
}

const authHeaders = (lab: TReachableLab): Record<string, string> => ({ authorization: `Token ${openSecret(lab.apiToken)}` });

async function labError(lab: TReachableLab, res: Response): Promise<LabHttpError> {
  const text = await res.text().catch(() => "");
  let message = text.slice(0, 2000);
  try {
    const body = JSON.parse(text) as { message?: unknown; detail?: unknown };
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.detail === "string") message = body.detail;
  } catch {
    // not JSON: keep the text
  }
  return new LabHttpError(lab.name, res.status, message || `HTTP ${res.status}`);
}

/** Human text for a fetch failure ("connect ECONNREFUSED 127.0.0.1:4001", "timed out after 3000 ms"). */
export function describeFetchError(e: unknown, timeoutMs?: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return `timed out after ${timeoutMs ?? "?"} ms`;
  if (err instanceof LabHttpError) return `HTTP ${err.status}: ${err.message}`;
  return err?.cause?.message ?? err?.message ?? String(e);
}

/** GET /api/v0.2/magma/overview/ → the lab's workers, devices, device types and queue. */
export async function fetchInstanceOverview(lab: TReachableLab, timeoutMs: number): Promise<TInstanceOverview> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/magma/overview/`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return ZInstanceOverview.parse(await res.json());
}

/** GET /api/v0.2/jobs/<id>/logs/?start=N (JSON) → log lines from line `start` on. */
export async function fetchJobLog(lab: TReachableLab, jobId: number, start: number, timeoutMs: number): Promise<TLogLine[]> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/jobs/${jobId}/logs/?start=${start}`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return z.array(ZLogLine).parse(await res.json());
}

/**
 * GET /api/v0.2/jobs/<id>/logs/stream/?start=N: the lab's Server-Sent Events stream, unread.
 * @param signal aborts the upstream request (the browser went away)
 */
export async function openJobLogStream(lab: TReachableLab, jobId: number, start: number, signal: AbortSignal): Promise<Response> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/jobs/${jobId}/logs/stream/?start=${start}`, {
    headers: { ...authHeaders(lab), accept: "text/event-stream" },
    signal,
    cache: "no-store",
  });
  if (!res.ok || !res.body) throw await labError(lab, res);
  return res;
}

/**
 * Header naming the frontend user a submission is made for. The lab accepts it only with the
 * frontend's lab token and records the job as submitted by its own user of that name (created on
 * first use, never a superuser), so personal visibility and the job's submitter are the real user's.
 */
export { SUBMITTER_HEADER };

/**
 * POST /api/v0.2/jobs/ `{definition}` with `Idempotency-Key`, so a retried delivery returns the
 * job created the first time instead of a second one, and {@link SUBMITTER_HEADER} when `submitter`
 * is given.
 * @returns the lab's job ids (one per job; multinode is not supported, so one)
 * @throws LabHttpError on 4xx/5xx (400 carries LAVA's "Job invalid: …" message)
 */
export async function submitJobToLab(
  lab: TReachableLab,
  definition: string,
  idempotencyKey: string,
  timeoutMs: number,
  submitter: string | null = null,
): Promise<number[]> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/jobs/`, {
    method: "POST",
    headers: {
      ...authHeaders(lab),
      "content-type": "application/json",
      accept: "application/json",
      "idempotency-key": idempotencyKey,
      ...(submitter ? { [SUBMITTER_HEADER]: submitter } : {}),
    },
    body: JSON.stringify({ definition }),
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  const body = ZSubmitJobResponse.parse(await res.json());
  if (!body.job_ids.length) throw new Error(`lab ${lab.name} answered the submission without a job id`);
  // a MultiNode answer lists sub ids "N.k"; N, the group's first sub-job, stands for the group
  return body.job_ids.map((id) => (typeof id === "number" ? id : Number.parseInt(id, 10)));
}

/**
 * POST /api/v0.2/jobs/<id>/cancel/ (LAVA's cancel: Submitted → Canceled at once, Scheduled/Running →
 * Canceling), acting as `submitter` ({@link SUBMITTER_HEADER}; the lab lets a job's submitter cancel
 * it) when given. The frontend decided who may cancel before calling.
 * @throws LabHttpError (404 unknown job, 403 the lab refused), Error (network, timeout)
 */
export async function cancelJobOnLab(lab: TReachableLab, jobId: number, submitter: string | null, timeoutMs: number): Promise<void> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/jobs/${jobId}/cancel/`, {
    method: "POST",
    headers: { ...authHeaders(lab), accept: "application/json", ...(submitter ? { [SUBMITTER_HEADER]: submitter } : {}) },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  await res.text();
}

/**
 * GET /api/v0.2/magma/finished-jobs/?since&after_id&limit → one page of the lab's finished jobs in
 * (end_time, id) order, with their test case counts (the reconciliation feed).
 * @param after null = from the lab's first finished job
 */
export async function fetchFinishedJobs(
  lab: TReachableLab,
  after: TFinishedJobsCursor | null,
  limit: number,
  timeoutMs: number,
): Promise<TFinishedJobsPage> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (after) {
    q.set("since", after.since);
    q.set("after_id", String(after.after_id));
  }
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/magma/finished-jobs/?${q}`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return ZFinishedJobsPage.parse(await res.json());
}

/** GET /api/v0.2/magma/jobs/<id>/federation/ → the job's federation callback payload (dataset results). */
export async function fetchFederationPayload(lab: TReachableLab, jobId: number, timeoutMs: number): Promise<TNotifyPayload> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/magma/jobs/${jobId}/federation/`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return ZNotifyPayload.parse(await res.json());
}

/** The Magma implementation of {@link LabClient} (the functions above, bound to one lab). */
export function magmaLabClient(lab: TReachableLab): LabClient {
  return {
    lab,
    overview: (timeoutMs) => fetchInstanceOverview(lab, timeoutMs),
    submit: (definition, { idempotencyKey, submitter, timeoutMs }) => submitJobToLab(lab, definition, idempotencyKey, timeoutMs, submitter),
    jobLog: (jobId, start, timeoutMs) => fetchJobLog(lab, jobId, start, timeoutMs),
    openLogStream: (jobId, start, signal) => openJobLogStream(lab, jobId, start, signal),
    finishedJobs: (after, limit, timeoutMs) => fetchFinishedJobs(lab, after, limit, timeoutMs),
    federationPayload: (jobId, timeoutMs) => fetchFederationPayload(lab, jobId, timeoutMs),
    cancel: (jobId, { submitter, timeoutMs }) => cancelJobOnLab(lab, jobId, submitter, timeoutMs),
  };
}

/**
 * GET /api/v0.2/magma/jobs/<id>/cases/?after_id&limit → one keyset page of a job's test cases
 * (LAVA's export, the notify `results` items) and the next cursor (null: last page).
 */
export async function fetchJobCasesPage(
  lab: TReachableLab,
  jobId: number,
  afterId: number,
  limit: number,
  timeoutMs: number,
): Promise<TJobCasesPage> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/magma/jobs/${jobId}/cases/?after_id=${afterId}&limit=${limit}`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return ZJobCasesPage.parse(await res.json());
}

/** GET /api/v0.2/jobs/<id>/logs/?start=&end= (JSON) → the stored log lines `[start, end)`. */
export async function fetchJobLogRange(
  lab: TReachableLab,
  jobId: number,
  start: number,
  end: number,
  timeoutMs: number,
): Promise<TLogLine[]> {
  const res = await fetch(`${lab.url}${INSTANCE_API_PREFIX}/jobs/${jobId}/logs/?start=${start}&end=${end}`, {
    headers: { ...authHeaders(lab), accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    cache: "no-store",
  });
  if (!res.ok) throw await labError(lab, res);
  return z.array(ZLogLine).parse(await res.json());
}
