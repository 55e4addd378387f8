import type { IncomingHttpHeaders } from "node:http";
import { SUBMITTER_HEADER, ZLabUsername } from "@magma/protocol";
import { canAdminister, findTokenOwnerByDigest, upsertUser, type InstanceDb, type InstanceTx, type User } from "@magma/db/instance";
import { constantTimeEqual, digestSecret } from "@magma/db/secrets";
import { AppError } from "../app-error.ts";

/** Who a valid API token belongs to, and whether it may act for other users (X-Magma-Submitter). */
export interface TokenOwner {
  user: User;
  federation: boolean;
}

/**
 * Finds the owner of API token `secret` (and, when `username` is given, only if it is that user's,
 * as LAVA's `AuthToken.get_user_for_secret(username, secret)`), in ONE statement that also records
 * `last_used` (at most once a minute per token, so a busy script does not write on every call;
 * the statement is `findTokenOwnerByDigest` in the account repository).
 * Only the SHA-256 digest of the secret is stored; the row is found by its digest and the digests are
 * compared again in constant time.
 * @returns the owner, or null when no token matches
 */
export async function tokenOwner(db: InstanceDb | InstanceTx, secret: string, username?: string): Promise<TokenOwner | null> {
  const digest = digestSecret(secret);
  const row = await findTokenOwnerByDigest(db, digest);
  if (!row || !constantTimeEqual(row.storedDigest, digest)) return null;
  if (username !== undefined && row.user.username !== username) return null;
  return { user: row.user, federation: row.federation };
}

/** {@link tokenOwner}'s user, for callers that never act for others (XML-RPC). */
export async function userForSecret(db: InstanceDb | InstanceTx, secret: string, username?: string): Promise<User | null> {
  return (await tokenOwner(db, secret, username))?.user ?? null;
}

/**
 * The user a federation token acts for: `name` as it is, created on first use as a plain user (never
 * a superuser). Naming an existing superuser is allowed only to a superuser's token, so the header
 * never grants more than the token already has.
 * @throws AppError INVALID_REQUEST (bad name), FORBIDDEN (superuser named by a non-superuser's token)
 */
export async function actingUser(db: InstanceDb, owner: TokenOwner, name: string): Promise<User> {
  const ok = ZLabUsername.safeParse(name);
  if (!ok.success) throw new AppError("INVALID_REQUEST", `${SUBMITTER_HEADER}: '${name.slice(0, 200)}' ${ok.error.issues[0]!.message}`);
  const user = await upsertUser(db, name);
  if (user.isSuperuser && !owner.user.isSuperuser) {
    throw new AppError(
      "FORBIDDEN",
      `Permission denied: ${SUBMITTER_HEADER} names superuser '${name}', but the token's user '${owner.user.username}' is not a superuser`,
    );
  }
  return user;
}

/**
 * Resolves a REST request's `Authorization: Token <secret>` (LAVA's scheme) to the user it acts as:
 * the token's owner, or — with an `X-Magma-Submitter: <name>` header and a token that has the
 * `federation` capability — that named user ({@link actingUser}).
 * @returns the user, or null when no Authorization header was sent (anonymous)
 * @throws AppError UNAUTHENTICATED `Invalid token.` (malformed header, unknown secret, or
 *   X-Magma-Submitter without a token); FORBIDDEN when the token may not act for others;
 *   INVALID_REQUEST for a bad X-Magma-Submitter name
 */
export async function authenticateToken(db: InstanceDb, headers: IncomingHttpHeaders): Promise<User | null> {
  const header = headers.authorization;
  const actFor = headers[SUBMITTER_HEADER];
  if (!header) {
    if (actFor !== undefined)
      throw new AppError("UNAUTHENTICATED", `${SUBMITTER_HEADER} needs an 'Authorization: Token <secret>' with the federation capability.`);
    return null;
  }
  const m = /^Token\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AppError("UNAUTHENTICATED", "Invalid token header. Expected 'Authorization: Token <secret>'.");
  const owner = await tokenOwner(db, m[1]!);
  if (!owner) throw new AppError("UNAUTHENTICATED", "Invalid token.");
  if (actFor === undefined) return owner.user;
  if (!owner.federation)
    throw new AppError(
      "FORBIDDEN",
      `Permission denied: this token may not act for other users (${SUBMITTER_HEADER} needs a token with the federation capability).`,
    );
  if (Array.isArray(actFor)) throw new AppError("INVALID_REQUEST", `${SUBMITTER_HEADER}: send one user name, not ${actFor.length}`);
  return actingUser(db, owner, actFor);
}

/**
 * Like {@link authenticateToken} but for writes: anonymous is refused.
 * @throws AppError UNAUTHENTICATED `Authentication credentials were not provided.` (LAVA's DRF text)
 */
export async function requireUser(db: InstanceDb, headers: IncomingHttpHeaders): Promise<User> {
  const user = await authenticateToken(db, headers);
  if (!user) throw new AppError("UNAUTHENTICATED", "Authentication credentials were not provided.");
  return user;
}

/**
 * Like {@link requireUser} for lab administration (devices, dictionaries, health): the caller must be
 * allowed by the policy's `canAdminister` (superusers).
 * @throws AppError UNAUTHENTICATED (no or bad token), FORBIDDEN `Permission denied: user 'x' is not a superuser`
 */
export async function requireAdmin(db: InstanceDb, headers: IncomingHttpHeaders): Promise<User> {
  const user = await requireUser(db, headers);
  if (!canAdminister(user)) throw new AppError("FORBIDDEN", `Permission denied: user '${user.username}' is not a superuser`);
  return user;
}
