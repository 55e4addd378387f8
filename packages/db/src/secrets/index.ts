/**
 * @magma/db/secrets — how Magma keeps secrets at rest and proves who sent a request, shared by the
 * instance and the frontend (both server-side; node:crypto only, no I/O):
 * - API, worker and job tokens are stored as SHA-256 digests (lowercase hex) and compared in
 *   constant time; the raw secret is shown once, when it is created (LAVA stores them in plaintext);
 * - a secret the instance must send again later (the one a notify callback's `token:` names) is
 *   also kept sealed with AES-256-GCM under a key from the environment;
 * - job tokens are derived from the worker's own token, so the instance can hand them out again on
 *   every ping without storing them;
 * - callbacks are signed with HMAC-SHA256 over `${timestamp}.${body}` (GitHub/Stripe-style webhooks):
 *   {@link signPayload} on the instance, {@link verifySignature} on the receiver.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { CALLBACK_SIGNATURE_PREFIX, CALLBACK_SIGNATURE_TOLERANCE_S } from "@magma/protocol";

/** SHA-256 of a secret's UTF-8 bytes, 64 lowercase hex characters: what the databases store. */
export function digestSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time equality of two strings (false when their lengths differ; lengths are not secret). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Does `presented` hash to `digest`? Constant time over the digests. */
export function secretMatchesDigest(presented: string, digest: string): boolean {
  return constantTimeEqual(digestSecret(presented), digest);
}

/** A fresh random secret: `bytes` random bytes as base64url (24 bytes → 32 characters, LAVA's token length). */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

const SEAL_PREFIX = "aes256gcm:";

/** The 32-byte AES key of a configured secret key string (SHA-256 of its UTF-8 bytes). */
function aesKey(secretKey: string): Buffer {
  return createHash("sha256").update(secretKey, "utf8").digest();
}

/**
 * Seals a secret the instance must be able to send again: AES-256-GCM, random 12-byte IV.
 * @param secretKey the configured key (any string of at least 32 characters)
 * @returns `aes256gcm:<iv b64url>.<tag b64url>.<ciphertext b64url>`
 */
export function sealSecret(secretKey: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", aesKey(secretKey), iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `${SEAL_PREFIX}${iv.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}.${ct.toString("base64url")}`;
}

/**
 * Opens what {@link sealSecret} produced.
 * @returns the plaintext, or null when the value is malformed or was sealed under another key
 */
export function openSealedSecret(secretKey: string, sealed: string): string | null {
  if (!sealed.startsWith(SEAL_PREFIX)) return null;
  const parts = sealed.slice(SEAL_PREFIX.length).split(".");
  if (parts.length !== 3) return null;
  try {
    const [iv, tag, ct] = parts.map((p) => Buffer.from(p!, "base64url"));
    const decipher = createDecipheriv("aes-256-gcm", aesKey(secretKey), iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(ct!), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The token of job `jobId` on a worker: HMAC-SHA256(key = the worker's raw token, `job:<id>:<nonce>`)
 * mapped to 32 alphanumerics (LAVA's job-token shape; each byte modulo 62). The instance computes it when the worker's ping (which carries the
 * worker token) lists the job, and stores only its digest, so neither token is recoverable from a
 * database dump while every ping can hand the same job token out again.
 */
export function deriveJobToken(workerToken: string, jobId: number, nonce: string): string {
  const mac = createHmac("sha256", workerToken).update(`job:${jobId}:${nonce}`, "utf8").digest();
  let token = "";
  for (const b of mac) token += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return token;
}

/**
 * Signs a callback: `sha256=` + lowercase hex HMAC-SHA256(secret, `${timestamp}.${body}`), the value of
 * the `X-Magma-Signature` header (protocol CALLBACK_SIGNATURE_HEADER).
 * @param timestamp unix seconds, the value sent in `X-Magma-Timestamp`
 * @param body the exact body bytes sent (a string is taken as UTF-8)
 */
export function signPayload(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestamp}.`, "utf8");
  mac.update(typeof body === "string" ? Buffer.from(body, "utf8") : body);
  return CALLBACK_SIGNATURE_PREFIX + mac.digest("hex");
}

/** Outcome of {@link verifySignature}; `reason` says why a callback is refused. */
export type TSignatureCheck =
  | { ok: true; timestamp: number }
  | {
      ok: false;
      reason:
        "missing signature" | "missing timestamp" | "malformed signature" | "malformed timestamp" | "stale timestamp" | "bad signature";
    };

/**
 * Checks a signed callback (the receiver side of {@link signPayload}): the timestamp must be unix
 * seconds within `toleranceS` (default 300) of `nowS`, and the signature must equal the expected one
 * (constant-time). Replays within the window are the receiver's to refuse, by the delivery id.
 * @param o.timestamp / o.signature the raw header values (undefined when absent)
 * @param o.body the exact body bytes received
 */
export function verifySignature(o: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string | Uint8Array;
  nowS?: number;
  toleranceS?: number;
}): TSignatureCheck {
  if (o.signature === undefined || o.signature === "") return { ok: false, reason: "missing signature" };
  if (o.timestamp === undefined || o.timestamp === "") return { ok: false, reason: "missing timestamp" };
  if (!/^\d{1,12}$/.test(o.timestamp)) return { ok: false, reason: "malformed timestamp" };
  if (!/^sha256=[0-9a-f]{64}$/.test(o.signature)) return { ok: false, reason: "malformed signature" };
  const ts = Number(o.timestamp);
  const now = o.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (o.toleranceS ?? CALLBACK_SIGNATURE_TOLERANCE_S)) return { ok: false, reason: "stale timestamp" };
  if (!constantTimeEqual(signPayload(o.secret, o.timestamp, o.body), o.signature)) return { ok: false, reason: "bad signature" };
  return { ok: true, timestamp: ts };
}
