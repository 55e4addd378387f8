import { digestSecret, sealSecret } from "../../secrets/index.ts";
import type { InstanceDb, InstanceTx } from "../client.ts";
import { directQuery } from "../direct-sql.ts";
import type { TInstanceUser, TUserWithGroups } from "../dto.ts";

/**
 * Users, groups and API tokens of an instance (LAVA's auth users, groups and tokens), as the admin
 * CLI, the lab seed and the federation's acting user need them. Who a token belongs to (the
 * authentication itself) is the instance's auth module.
 */

/**
 * Creates user `username` when missing (a superuser iff `create.isSuperuser`), else updates only
 * what `update` names (`isSuperuser` set to that value; omitted = left as it is).
 * @returns the user as stored after the call
 */
export async function upsertUser(
  db: InstanceDb | InstanceTx,
  username: string,
  create: { isSuperuser: boolean } = { isSuperuser: false },
  update: { isSuperuser?: boolean } = {},
): Promise<TInstanceUser> {
  const u = await db.user.upsert({ where: { username }, create: { username, isSuperuser: create.isSuperuser }, update });
  return { id: u.id, username: u.username, isSuperuser: u.isSuperuser, createdAt: u.createdAt, email: u.email };
}

/** Every user by name with its superuser flag and group names (sorted). */
export async function listUsersWithGroups(db: InstanceDb | InstanceTx): Promise<TUserWithGroups[]> {
  const rows = await db.user.findMany({ orderBy: { username: "asc" }, include: { memberships: { include: { group: true } } } });
  return rows.map((u) => ({ username: u.username, isSuperuser: u.isSuperuser, groups: u.memberships.map((m) => m.group.name).sort() }));
}

/** Creates group `name` when missing (idempotent). */
export async function ensureGroup(db: InstanceDb | InstanceTx, name: string): Promise<void> {
  await db.group.upsert({ where: { name }, create: { name }, update: {} });
}

/**
 * Stores API token `secret` for user `userId`, idempotently (keyed by the secret's digest; a second call
 * moves the token to that user and updates its description). Only the SHA-256 digest is stored, plus a
 * sealed copy when `secretKey` is configured (needed only to send the secret with a notify callback
 * whose `token:` names this token's description). The caller shows the secret once; it cannot be read
 * back afterwards. `federation` lets the token act for other users (X-Magma-Submitter).
 */
export async function storeApiToken(
  db: InstanceDb | InstanceTx,
  opts: { userId: number; secret: string; description: string; secretKey: string | null; federation?: boolean },
): Promise<void> {
  const secretDigest = digestSecret(opts.secret);
  const secretSealed = opts.secretKey ? sealSecret(opts.secretKey, opts.secret) : null;
  await db.apiToken.upsert({
    where: { secretDigest },
    create: { userId: opts.userId, secretDigest, secretSealed, description: opts.description, federation: opts.federation ?? false },
    update: {
      userId: opts.userId,
      description: opts.description,
      federation: opts.federation ?? false,
      ...(secretSealed ? { secretSealed } : {}),
    },
  });
}

/**
 * Puts user `userId` into each of `groups` (created when missing), idempotently. Memberships not
 * listed are kept (use {@link setGroupMembership} to remove one).
 */
export async function addToGroups(db: InstanceDb | InstanceTx, userId: number, groups: string[]): Promise<void> {
  for (const name of groups) {
    const g = await db.group.upsert({ where: { name }, create: { name }, update: {} });
    await db.groupMembership.upsert({
      where: { userId_groupId: { userId, groupId: g.id } },
      create: { userId, groupId: g.id },
      update: {},
    });
  }
}

/**
 * Adds (`member` true) or removes user `username` from group `group` (created when adding).
 * @throws Error `user 'x' does not exist` / `group 'x' does not exist` (removing from an unknown group)
 */
export async function setGroupMembership(db: InstanceDb | InstanceTx, group: string, username: string, member: boolean): Promise<void> {
  const user = await db.user.findUnique({ where: { username } });
  if (!user) throw new Error(`user '${username}' does not exist`);
  if (member) return addToGroups(db, user.id, [group]);
  const g = await db.group.findUnique({ where: { name: group } });
  if (!g) throw new Error(`group '${group}' does not exist`);
  await db.groupMembership.deleteMany({ where: { userId: user.id, groupId: g.id } });
}

/**
 * The API token whose secret digests to `digest`, with its user, in ONE statement that also records
 * `last_used` (at most once a minute per token, so a busy script does not write on every call),
 * as a prepared statement on the `pg` pool ({@link directQuery}). The caller compares `digest` with the stored one again in constant time.
 * @returns the user, the stored digest and the token's federation capability, or null
 */
export async function findTokenOwnerByDigest(
  db: InstanceDb | InstanceTx,
  digest: string,
): Promise<{ user: TInstanceUser; storedDigest: string; federation: boolean } | null> {
  const rows = await directQuery<TInstanceUser & { digest: string; federation: boolean }>(
    db,
    "magma_token_owner",
    `WITH tok AS (SELECT id, user_id, secret_digest, federation, last_used FROM api_tokens WHERE secret_digest = $1),
    bump AS (
      UPDATE api_tokens a SET last_used = now() FROM tok
      WHERE a.id = tok.id AND (tok.last_used IS NULL OR tok.last_used < now() - interval '1 minute'))
    SELECT u.id, u.username, u.is_superuser AS "isSuperuser", u.created_at AS "createdAt", u.email, tok.secret_digest AS digest, tok.federation
    FROM tok JOIN users u ON u.id = tok.user_id`,
    [digest],
  );
  const row = rows[0];
  if (!row) return null;
  const { digest: storedDigest, federation, ...user } = row;
  return { user, storedDigest, federation };
}
