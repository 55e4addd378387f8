import { createHash, timingSafeEqual } from "node:crypto";
import { QUEUE_NAMES, ZNotifyPayload, callbackJobId, type TCallbackQueueJob } from "@magma/protocol";
import { findInstanceByName, type FrontendDb } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";
import { addJobOrFail } from "../queues/connections.ts";

/** Largest callback body accepted, in bytes (LAVA's `dataset: all` carries the whole log). */
export const MAX_CALLBACK_BYTES = 32 * 1024 * 1024;

/** Constant-time string equality (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The token of a callback: `x-magma-token`, else `Authorization` (raw as LAVA sends it, or `Token …`/`Bearer …`). */
export function callbackToken(magmaHeader: string | null, authorization: string | null): string | null {
  if (magmaHeader) return magmaHeader.trim();
  if (!authorization) return null;
  return authorization.replace(/^(Token|Bearer)\s+/i, "").trim() || null;
}

export interface ReceiveCallbackOptions {
  db: FrontendDb;
  lab: string;
  token: string | null;
  /** Raw request body (JSON). */
  body: string;
  receivedAt?: Date;
}

/**
 * A lab's notify callback (LAVA "custom result handler"), checked and queued for ingest.
 *
 * Outcomes:
 *  1. lab unknown → AppError NOT_FOUND (404)
 *  2. no token → UNAUTHENTICATED (401); wrong token → FORBIDDEN (403)
 *  3. body not JSON or not a ZNotifyPayload → INVALID_REQUEST (400) naming the field
 *  4. Redis unavailable → UPSTREAM_UNAVAILABLE with status 503 (the instance retries later)
 *  5. queued → the deterministic job id `notify-<lab>-<id>-<state>-<health>`; a re-delivery maps
 *     to the same id, so BullMQ keeps one job.
 * The `log` and `token` keys are dropped before queueing: logs are read from the lab on demand,
 * and secrets do not belong in Redis.
 */
export async function receiveCallback({ db, lab, token, body, receivedAt = new Date() }: ReceiveCallbackOptions): Promise<{ jobId: string }> {
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured on this frontend` });
  if (!token) {
    throw new AppError("UNAUTHENTICATED", { message: `Callback for lab "${lab}" has no token: send it in the x-magma-token or Authorization header` });
  }
  if (!safeEqual(token, instance.callbackToken)) throw new AppError("FORBIDDEN", { message: `Callback token for lab "${lab}" is wrong` });
  if (Buffer.byteLength(body) > MAX_CALLBACK_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", { message: `Callback body is over ${MAX_CALLBACK_BYTES} bytes` });
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new AppError("INVALID_REQUEST", { message: `Callback body is not valid JSON: ${(e as Error).message} (use content-type: json in the notify callback)` });
  }
  const parsed = ZNotifyPayload.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new AppError("INVALID_REQUEST", { message: `Callback body is not a LAVA notify payload: ${problems}` });
  }
  const { log: _log, token: _token, ...payload } = parsed.data;
  const data: TCallbackQueueJob = { instance: instance.name, receivedAt: receivedAt.toISOString(), payload };
  const jobId = callbackJobId(instance.name, payload.id, payload.state_string, payload.health_string);
  await addJobOrFail(QUEUE_NAMES.callbacks, "notify", data, jobId);
  return { jobId };
}
