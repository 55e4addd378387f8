import type { InstanceDb, InstanceTx, User } from "@magma/db/instance";
import { constantTimeEqual, digestSecret } from "@magma/db/secrets";
import { AppError } from "../app-error.ts";

/**
 * Finds the user owning API token `secret` (and, when `username` is given, only if it is that user's,
 * as LAVA's `AuthToken.get_user_for_secret(username, secret)`), in ONE statement that also records
 * `last_used` (at most once a minute per token, so a busy script does not write on every call).
 * Only the SHA-256 digest of the secret is stored; the row is found by its digest and the digests are
 * compared again in constant time.
 * @returns the user, or null when no token matches
 */
export async function userForSecret(db: InstanceDb | InstanceTx, secret: string, username?: string): Promise<User | null> {
  const digest = digestSecret(secret);
  const rows = await db.$queryRaw<(User & { digest: string })[]>`
    WITH tok AS (SELECT id, user_id, secret_digest, last_used FROM api_tokens WHERE secret_digest = ${digest}),
    bump AS (
      UPDATE api_tokens a SET last_used = now() FROM tok
      WHERE a.id = tok.id AND (tok.last_used IS NULL OR tok.last_used < now() - interval '1 minute'))
    SELECT u.id, u.username, u.is_superuser AS "isSuperuser", u.created_at AS "createdAt", tok.secret_digest AS digest
    FROM tok JOIN users u ON u.id = tok.user_id`;
  const row = rows[0];
  if (!row || !constantTimeEqual(row.digest, digest)) return null;
  if (username !== undefined && row.username !== username) return null;
  const { digest: _digest, ...user } = row;
  return user;
}

/**
 * Resolves an `Authorization: Token <secret>` header (LAVA's REST scheme) to its user.
 * @param header the raw Authorization header, or undefined for an anonymous request
 * @returns the user, or null when no header was sent (anonymous)
 * @throws AppError UNAUTHENTICATED `Invalid token.` for a malformed header or an unknown secret
 */
export async function authenticateToken(db: InstanceDb, header: string | undefined): Promise<User | null> {
  if (!header) return null;
  const m = /^Token\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AppError("UNAUTHENTICATED", "Invalid token header. Expected 'Authorization: Token <secret>'.");
  const user = await userForSecret(db, m[1]!);
  if (!user) throw new AppError("UNAUTHENTICATED", "Invalid token.");
  return user;
}

/**
 * Like {@link authenticateToken} but for writes: anonymous is refused.
 * @throws AppError UNAUTHENTICATED `Authentication credentials were not provided.` (LAVA's DRF text)
 */
export async function requireUser(db: InstanceDb, header: string | undefined): Promise<User> {
  const user = await authenticateToken(db, header);
  if (!user) throw new AppError("UNAUTHENTICATED", "Authentication credentials were not provided.");
  return user;
}
