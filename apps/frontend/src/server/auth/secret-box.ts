import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { env } from "../../env.ts";
import { tokenDigest } from "./secrets.ts";

/**
 * Lab secrets at rest in the frontend's database. The frontend must present each lab's API token
 * and verify each lab's callback signature, so those two are encrypted (AES-256-GCM, node's
 * OpenSSL binding; key = SHA-256 of MAGMA_FRONTEND_SECRET_KEY) and stored as
 * `enc:v1:<iv>:<tag>:<ciphertext>` (base64url). The callback token only needs comparing, so only
 * its SHA-256 digest is stored (`sha256:<hex>`). A database dump then holds no usable secret.
 * Without MAGMA_FRONTEND_SECRET_KEY the lab tokens are stored as given (the frontend logs a
 * warning at startup); values stored in clear by older versions or tests are still read.
 */

const PREFIX = "enc:v1:";
const DIGEST_PREFIX = "sha256:";

function key(): Buffer | null {
  const k = env().MAGMA_FRONTEND_SECRET_KEY;
  return k ? createHash("sha256").update(k).digest() : null;
}

/** Whether lab secrets are encrypted at rest (MAGMA_FRONTEND_SECRET_KEY is set). */
export function secretsEncrypted(): boolean {
  return key() !== null;
}

/** Encrypts a lab secret for storage (returned unchanged without a key). */
export function sealSecret(plain: string): string {
  const k = key();
  if (!k) return plain;
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", k, iv);
  const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return `${PREFIX}${iv.toString("base64url")}:${c.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
}

/**
 * The plain secret of a stored value (a value without the `enc:v1:` prefix is returned as is).
 * @throws Error naming the problem when the value is encrypted but the key is missing or wrong
 */
export function openSecret(stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const k = key();
  if (!k) throw new Error("a lab secret is stored encrypted but MAGMA_FRONTEND_SECRET_KEY is not set");
  const [iv, tag, ct] = stored.slice(PREFIX.length).split(":");
  try {
    const d = createDecipheriv("aes-256-gcm", k, Buffer.from(iv ?? "", "base64url"));
    d.setAuthTag(Buffer.from(tag ?? "", "base64url"));
    return Buffer.concat([d.update(Buffer.from(ct ?? "", "base64url")), d.final()]).toString("utf8");
  } catch {
    throw new Error(
      "a lab secret could not be decrypted: MAGMA_FRONTEND_SECRET_KEY differs from the one it was stored with (restart the frontend to re-sync MAGMA_FRONTEND_CONFIG)",
    );
  }
}

/** What to store for a callback token: its SHA-256 digest. */
export function callbackTokenDigest(token: string): string {
  return `${DIGEST_PREFIX}${tokenDigest(token)}`;
}

/** The value to compare a presented callback token with: its digest when the stored one is a digest. */
export function comparableCallbackToken(presented: string, stored: string): string {
  return stored.startsWith(DIGEST_PREFIX) ? callbackTokenDigest(presented) : presented;
}
