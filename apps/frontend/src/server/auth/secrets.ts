import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { hash, verify } from "@node-rs/argon2";

/**
 * Secrets of the frontend's accounts, with maintained libraries rather than hand-made crypto:
 * tokens are 160 random bits in lower-case base32 and are stored only as their SHA-256 digest
 * (@oslojs/crypto, the recipe of Lucia's session guide); passwords are argon2id PHC strings
 * (@node-rs/argon2, OWASP's recommended parameters: 19 MiB, 2 passes, 1 lane).
 */

/** A fresh random token (32 characters of base32, 160 bits). */
export function generateSecretToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/** SHA-256 of a token, hex: what the database stores and is searched by. */
export function tokenDigest(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** argon2id hash of a password (PHC string, salt included). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

/** Whether `password` matches the PHC string (constant time inside argon2; false for a malformed hash). */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/** A fixed argon2 hash to verify against when the user does not exist, so both cases take as long. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  return (dummyHash ??= hashPassword("magma-no-such-user"));
}
