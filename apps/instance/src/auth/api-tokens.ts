import type { InstanceDb, InstanceTx } from "@magma/db/instance";
import { digestSecret, sealSecret } from "@magma/db/secrets";

/**
 * Stores API token `secret` for user `userId`, idempotently (keyed by the secret's digest; a second call
 * moves the token to that user and updates its description). Only the SHA-256 digest is stored, plus a
 * sealed copy when `secretKey` is configured (needed only to send the secret with a notify callback
 * whose `token:` names this token's description). The caller shows the secret once; it cannot be read
 * back afterwards.
 */
export async function storeApiToken(db: InstanceDb | InstanceTx, opts: { userId: number; secret: string; description: string; secretKey: string | null }): Promise<void> {
  const secretDigest = digestSecret(opts.secret);
  const secretSealed = opts.secretKey ? sealSecret(opts.secretKey, opts.secret) : null;
  await db.apiToken.upsert({
    where: { secretDigest },
    create: { userId: opts.userId, secretDigest, secretSealed, description: opts.description },
    update: { userId: opts.userId, description: opts.description, ...(secretSealed ? { secretSealed } : {}) },
  });
}
