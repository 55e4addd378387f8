import type { InstanceDb, InstanceTx } from "@magma/db/instance";
import { digestSecret, sealSecret } from "@magma/db/secrets";

/**
 * Stores API token `secret` for user `userId`, idempotently (keyed by the secret's digest; a second call
 * moves the token to that user and updates its description). Only the SHA-256 digest is stored, plus a
 * sealed copy when `secretKey` is configured (needed only to send the secret with a notify callback
 * whose `token:` names this token's description). The caller shows the secret once; it cannot be read
 * back afterwards. `federation` lets the token act for other users (X-Magma-Submitter).
 */
export async function storeApiToken(db: InstanceDb | InstanceTx, opts: { userId: number; secret: string; description: string; secretKey: string | null; federation?: boolean }): Promise<void> {
  const secretDigest = digestSecret(opts.secret);
  const secretSealed = opts.secretKey ? sealSecret(opts.secretKey, opts.secret) : null;
  await db.apiToken.upsert({
    where: { secretDigest },
    create: { userId: opts.userId, secretDigest, secretSealed, description: opts.description, federation: opts.federation ?? false },
    update: { userId: opts.userId, description: opts.description, federation: opts.federation ?? false, ...(secretSealed ? { secretSealed } : {}) },
  });
}

/**
 * Puts user `userId` into each of `groups` (created when missing), idempotently. Memberships not
 * listed are kept (use {@link setGroupMembership} to remove one).
 */
export async function addToGroups(db: InstanceDb | InstanceTx, userId: number, groups: string[]): Promise<void> {
  for (const name of groups) {
    const g = await db.group.upsert({ where: { name }, create: { name }, update: {} });
    await db.groupMembership.upsert({ where: { userId_groupId: { userId, groupId: g.id } }, create: { userId, groupId: g.id }, update: {} });
  }
}

/**
 * Adds (`member` true) or removes user `username` from group `group` (created when adding).
 * @throws Error `user 'x' does not exist` / `group 'x' does not exist` (removing from an unknown group)
 */
export async function setGroupMembership(db: InstanceDb, group: string, username: string, member: boolean): Promise<void> {
  const user = await db.user.findUnique({ where: { username } });
  if (!user) throw new Error(`user '${username}' does not exist`);
  if (member) return addToGroups(db, user.id, [group]);
  const g = await db.group.findUnique({ where: { name: group } });
  if (!g) throw new Error(`group '${group}' does not exist`);
  await db.groupMembership.deleteMany({ where: { userId: user.id, groupId: g.id } });
}
