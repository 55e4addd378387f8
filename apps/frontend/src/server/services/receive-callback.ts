import {
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_SIGNATURE_TOLERANCE_S,
  CALLBACK_TIMESTAMP_HEADER,
  QUEUE_NAMES,
  ZNotifyPayload,
  callbackJobId,
  type TCallbackQueueJob,
} from "@magma/protocol";
import { constantTimeEqual, signPayload } from "@magma/db/secrets";
import {
  findInstanceByName,
  forgetCallbackDelivery,
  recordCallbackDelivery,
  touchInstance,
  type FrontendDb,
  type TInstanceRecord,
} from "@magma/db/frontend";
import { AppError } from "../app-error.ts";
import { comparableCallbackToken, openSecret } from "../auth/secret-box.ts";
import { addJobOrFail } from "../queues/connections.ts";

/** A callback records its lab's last contact time only when the stored one is older than this, in ms. */
export const LAST_CONTACT_RESOLUTION_MS = 1000;

/** Largest callback body accepted, in bytes (LAVA's `dataset: all` carries the whole log). */
export const MAX_CALLBACK_BYTES = 32 * 1024 * 1024;

/** Constant-time string equality (the instance's and the frontend's one implementation). */
export const safeEqual = constantTimeEqual;

/** The token of a callback: `x-magma-token`, else `Authorization` (raw as LAVA sends it, or `Token …`/`Bearer …`). */
export function callbackToken(magmaHeader: string | null, authorization: string | null): string | null {
  if (magmaHeader) return magmaHeader.trim();
  if (!authorization) return null;
  return authorization.replace(/^(Token|Bearer)\s+/i, "").trim() || null;
}

/** Headers of a signed callback (webhook-style, as GitHub's and Stripe's). */
export const CALLBACK_SIGNATURE_HEADERS = {
  /** Unix time of signing, in seconds. */
  timestamp: CALLBACK_TIMESTAMP_HEADER,
  /** Unique id of this delivery (a replay of it is refused). */
  delivery: CALLBACK_DELIVERY_HEADER,
  /** `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. */
  signature: CALLBACK_SIGNATURE_HEADER,
} as const;

/** How far a signed callback's timestamp may be from now, and how long delivery ids are kept, in ms. */
export const SIGNATURE_TOLERANCE_MS = CALLBACK_SIGNATURE_TOLERANCE_S * 1000;

/** The signature headers of a request, as received (null when absent). */
export interface TCallbackSignature {
  timestamp: string | null;
  delivery: string | null;
  signature: string | null;
}

/** `sha256=<hex>` for a body signed at `timestamp` with `secret` (what a lab sends). */
export function signCallback(secret: string, timestamp: string, body: Buffer | string): string {
  return signPayload(secret, timestamp, body);
}

/**
 * Checks a signed callback's headers against the lab's secret.
 * @returns the delivery id to record against replays
 * @throws AppError UNAUTHENTICATED (headers missing, timestamp outside ±5 min), INVALID_REQUEST
 *   (malformed timestamp or delivery id), FORBIDDEN (signature does not match)
 */
export function verifyCallbackSignature(
  lab: TInstanceRecord & { callbackSecret: string },
  sig: TCallbackSignature,
  body: Buffer,
  now = Date.now(),
): string {
  const H = CALLBACK_SIGNATURE_HEADERS;
  const missing = (Object.keys(H) as (keyof typeof H)[]).filter((k) => !sig[k]).map((k) => H[k]);
  if (missing.length) {
    throw new AppError("UNAUTHENTICATED", {
      message: `Lab "${lab.name}" signs its callbacks: ${missing.join(", ")} missing (unsigned callbacks are refused)`,
    });
  }
  if (!/^\d{1,12}$/.test(sig.timestamp!))
    throw new AppError("INVALID_REQUEST", { message: `${H.timestamp} "${sig.timestamp!.slice(0, 40)}" is not a Unix time in seconds` });
  if (!/^[\x21-\x7e]{1,200}$/.test(sig.delivery!))
    throw new AppError("INVALID_REQUEST", { message: `${H.delivery}: 1-200 printable characters` });
  const skew = Math.abs(now - Number(sig.timestamp) * 1000);
  if (skew > SIGNATURE_TOLERANCE_MS) {
    throw new AppError("UNAUTHENTICATED", {
      message: `Callback signed ${Math.round(skew / 1000)} s away from now (more than ${SIGNATURE_TOLERANCE_MS / 1000} s): refused as stale`,
    });
  }
  if (!safeEqual(sig.signature!, signCallback(openSecret(lab.callbackSecret), sig.timestamp!, body))) {
    throw new AppError("FORBIDDEN", { message: `${H.signature} does not match the body for lab "${lab.name}"` });
  }
  return sig.delivery!;
}

export interface ReceiveCallbackOptions {
  db: FrontendDb;
  lab: string;
  token: string | null;
  /** Raw request body (JSON), already read within MAX_CALLBACK_BYTES. */
  body: Buffer;
  /** Signature headers (all null for a lab that does not sign). */
  signature?: TCallbackSignature;
  receivedAt?: Date;
}

/**
 * A lab's notify callback (LAVA "custom result handler"), checked and queued for ingest. The body
 * was read within MAX_CALLBACK_BYTES before anything else was checked (see readBodyLimited).
 *
 * Outcomes:
 *  1. lab unknown → AppError NOT_FOUND (404)
 *  2. a lab with a callback secret (it signs): missing signature headers or a timestamp more than
 *     5 minutes away → UNAUTHENTICATED (401), a signature not matching → FORBIDDEN (403), a token
 *     sent and wrong → 403; a lab without one (plain LAVA): no token → 401, wrong token → 403, and
 *     the callback is logged as unsigned
 *  3. body not JSON or not a ZNotifyPayload → INVALID_REQUEST (400) naming the field
 *  4. a signed delivery id already received within 5 minutes → CONFLICT (409): a replay, nothing queued
 *  5. Redis unavailable → UPSTREAM_UNAVAILABLE with status 503 (the instance retries later; the
 *     delivery id is forgotten so that retry is accepted)
 *  6. queued (and the lab's last contact time recorded, to the second) → the deterministic job id
 *     `notify-<lab>-<id>-<state>-<health>` (`-live<through>` appended for a live-results push); a
 *     re-delivery maps to the same id, so BullMQ keeps one job.
 * The `log` and `token` keys are dropped before queueing: logs are read from the lab on demand,
 * and secrets do not belong in Redis.
 */
export async function receiveCallback({
  db,
  lab,
  token,
  body,
  signature,
  receivedAt = new Date(),
}: ReceiveCallbackOptions): Promise<{ jobId: string; signed: boolean }> {
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured on this frontend` });
  let delivery: string | null = null;
  if (instance.callbackSecret) {
    delivery = verifyCallbackSignature(
      { ...instance, callbackSecret: instance.callbackSecret },
      signature ?? { timestamp: null, delivery: null, signature: null },
      body,
      receivedAt.getTime(),
    );
    if (token && !safeEqual(comparableCallbackToken(token, instance.callbackToken), instance.callbackToken))
      throw new AppError("FORBIDDEN", { message: `Callback token for lab "${lab}" is wrong` });
  } else {
    if (!token) {
      throw new AppError("UNAUTHENTICATED", {
        message: `Callback for lab "${lab}" has no token: send it in the x-magma-token or Authorization header`,
      });
    }
    if (!safeEqual(comparableCallbackToken(token, instance.callbackToken), instance.callbackToken))
      throw new AppError("FORBIDDEN", { message: `Callback token for lab "${lab}" is wrong` });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new AppError("INVALID_REQUEST", {
      message: `Callback body is not valid JSON: ${(e as Error).message} (use content-type: json in the notify callback)`,
    });
  }
  const parsed = ZNotifyPayload.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new AppError("INVALID_REQUEST", { message: `Callback body is not a LAVA notify payload: ${problems}` });
  }
  if (delivery && !(await recordCallbackDelivery(db, instance.id, delivery, SIGNATURE_TOLERANCE_MS, receivedAt))) {
    throw new AppError("CONFLICT", { message: `Callback delivery "${delivery}" of lab "${lab}" was already received: replay refused` });
  }
  const { log: _log, token: _token, ...payload } = parsed.data;
  const data: TCallbackQueueJob = { instance: instance.name, receivedAt: receivedAt.toISOString(), payload };
  const jobId = callbackJobId(instance.name, payload.id, payload.state_string, payload.health_string, payload.magma?.live_results?.through);
  try {
    await addJobOrFail(QUEUE_NAMES.callbacks, "notify", data, jobId);
  } catch (e) {
    if (delivery) await forgetCallbackDelivery(db, instance.id, delivery);
    throw e;
  }
  // the lab's last contact, at most once a second (a busy lab's callbacks would all write one row)
  const last = instance.lastContactAt ? Date.parse(instance.lastContactAt) : 0;
  if (!(receivedAt.getTime() - last < LAST_CONTACT_RESOLUTION_MS && receivedAt.getTime() >= last))
    await touchInstance(db, instance.id, receivedAt);
  return { jobId, signed: delivery !== null };
}
