import { ZLabUsername } from "@magma/protocol";
import {
  addToGroups,
  ensureGroup,
  listDeviceRecords,
  listUsersWithGroups,
  setGroupMembership,
  storeApiToken,
  upsertUser,
  type InstanceDb,
  type TDeviceRecord,
  type TUserWithGroups,
} from "@magma/db/instance";

/**
 * The admin CLI's services (cli.ts parses arguments and prints; these read and write through the
 * `@magma/db/instance` repositories). LAVA's `lava-server manage users|groups|tokens` subset.
 */

/**
 * Stores API token `secret` for `username` (created as a plain user when missing).
 * @throws Error when the secret is shorter than 16 characters
 */
export async function addApiToken(
  db: InstanceDb,
  username: string,
  opts: { secret: string; description: string; federation: boolean; secretKey: string | null },
): Promise<void> {
  if (opts.secret.length < 16) throw new Error("--secret: a token secret needs at least 16 characters");
  const user = await upsertUser(db, username);
  await storeApiToken(db, {
    userId: user.id,
    secret: opts.secret,
    description: opts.description,
    secretKey: opts.secretKey,
    federation: opts.federation,
  });
}

/**
 * Creates user `name` (or updates it), idempotently: a new user is a plain user unless `superuser`;
 * `superuser` on an existing user makes it one (never takes it away); joins `groups` (created when missing).
 * @throws Error `<name>: '…' <why>` for a name a lab user may not have
 */
export async function addUser(db: InstanceDb, name: string, opts: { superuser: boolean; groups: string[] }): Promise<void> {
  const ok = ZLabUsername.safeParse(name);
  if (!ok.success) throw new Error(`<name>: '${name}' ${ok.error.issues[0]!.message}`);
  const u = await upsertUser(db, name, { isSuperuser: opts.superuser }, opts.superuser ? { isSuperuser: true } : {});
  await addToGroups(db, u.id, opts.groups);
}

/** Every user by name with its superuser flag and groups. */
export function listUsers(db: InstanceDb): Promise<TUserWithGroups[]> {
  return listUsersWithGroups(db);
}

/**
 * Creates group `name` (idempotent) and adds `users` to it.
 * @throws Error `user 'x' does not exist`
 */
export async function addGroup(db: InstanceDb, name: string, users: string[]): Promise<void> {
  await ensureGroup(db, name);
  for (const u of users) await setGroupMembership(db, name, u, true);
}

/** Removes `username` from group `name`. @throws Error naming the unknown user or group */
export function removeGroupMember(db: InstanceDb, name: string, username: string): Promise<void> {
  return setGroupMembership(db, name, username, false);
}

/** Devices by hostname (CLI `devices list`). */
export function listDevicesForAdmin(db: InstanceDb): Promise<TDeviceRecord[]> {
  return listDeviceRecords(db);
}
