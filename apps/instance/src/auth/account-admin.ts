import { ZLabUsername } from "@magma/protocol";
import {
  addToGroups,
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  findGroupsWithUsers,
  findUsersForAdmin,
  setGroupMembership,
  setUserSuperuser,
  type TUserAdminView,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

/**
 * Users and groups over XML-RPC, as LAVA 2023.10+'s `auth.users.*` and `auth.groups.*` (lava_server
 * api): same arguments and fault texts. Magma's user is a username and a superuser flag: names,
 * e-mail, `is_staff` and LDAP are refused with a clear message rather than dropped; `is_active` is
 * always true (delete a user instead); per-object permissions do not exist (superusers administer).
 */

/** @throws AppError INVALID_REQUEST naming `username` when it is not a lab username */
function checkUsername(username: string): void {
  const r = ZLabUsername.safeParse(username);
  if (!r.success) throw new AppError("INVALID_REQUEST", `Invalid username '${username}': ${r.error.issues[0]?.message ?? "invalid"}`);
}

/** The profile fields LAVA has and Magma does not store; any given value is refused. */
export interface UnsupportedUserFields {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  isActive?: boolean | null;
  isStaff?: boolean | null;
  ldap?: boolean | null;
}

function refuseUnsupported(f: UnsupportedUserFields): void {
  if (f.ldap) throw new AppError("INVALID_REQUEST", "Bad request: authentication via LDAP not configured.");
  for (const [k, v] of [
    ["first_name", f.firstName],
    ["last_name", f.lastName],
    ["email", f.email],
  ] as const)
    if (v) throw new AppError("INVALID_REQUEST", `Invalid argument '${k}': Magma stores no ${k.replace("_", " ")} (leave it empty)`);
  if (f.isActive === false)
    throw new AppError("INVALID_REQUEST", "Invalid argument 'is_active': Magma has no inactive users (delete the user instead)");
  if (f.isStaff) throw new AppError("INVALID_REQUEST", "Invalid argument 'is_staff': Magma has no staff flag (use is_superuser)");
}

/** `auth.users.add`. @throws AppError INVALID_REQUEST `Bad request: user already exists?` (LAVA's text) or naming a refused field */
export async function addUser(ctx: InstanceContext, username: string, isSuperuser: boolean, f: UnsupportedUserFields): Promise<void> {
  checkUsername(username);
  refuseUnsupported(f);
  if ((await createUser(ctx.db, username, isSuperuser)) === "exists")
    throw new AppError("INVALID_REQUEST", "Bad request: user already exists?");
  ctx.logger.info({ username, isSuperuser }, "user added");
}

/** `auth.users.update`: only `is_superuser` can change. @throws AppError NOT_FOUND `User 'x' was not found.` */
export async function updateUser(
  ctx: InstanceContext,
  username: string,
  isSuperuser: boolean | null,
  f: UnsupportedUserFields,
): Promise<void> {
  refuseUnsupported(f);
  const found =
    isSuperuser === null ? (await findUsersForAdmin(ctx.db, username)).length > 0 : await setUserSuperuser(ctx.db, username, isSuperuser);
  if (!found) throw new AppError("NOT_FOUND", `User '${username}' was not found.`);
  ctx.logger.info({ username, isSuperuser }, "user updated");
}

/**
 * `auth.users.delete`: the user, its tokens and memberships. A user who submitted jobs is kept (the
 * jobs name their submitter): 400 saying so.
 * @throws AppError NOT_FOUND `Bad request: user does not exists` (LAVA's text)
 */
export async function removeUser(ctx: InstanceContext, username: string): Promise<void> {
  const r = await deleteUser(ctx.db, username);
  if (r === "missing") throw new AppError("NOT_FOUND", "Bad request: user does not exists");
  if (r === "has-jobs")
    throw new AppError("INVALID_REQUEST", `User '${username}' submitted jobs and cannot be deleted (the jobs keep their submitter)`);
  ctx.logger.info({ username }, "user deleted");
}

/** One user. @throws AppError NOT_FOUND `User 'x' was not found.` */
export async function getUser(ctx: InstanceContext, username: string): Promise<TUserAdminView> {
  const u = (await findUsersForAdmin(ctx.db, username))[0];
  if (!u) throw new AppError("NOT_FOUND", `User '${username}' was not found.`);
  return u;
}

/** Every user by name. */
export async function listUsers(ctx: InstanceContext): Promise<TUserAdminView[]> {
  return findUsersForAdmin(ctx.db);
}

/** `auth.users.groups.add`: the group is created when missing, as LAVA's get_or_create. */
export async function addUserToGroup(ctx: InstanceContext, username: string, group: string): Promise<void> {
  const u = await getUser(ctx, username);
  await addToGroups(ctx.db, u.id, [group]);
}

/** `auth.users.groups.delete`. @throws AppError NOT_FOUND for an unknown user or group */
export async function removeUserFromGroup(ctx: InstanceContext, username: string, group: string): Promise<void> {
  await getUser(ctx, username);
  if ((await findGroupsWithUsers(ctx.db, group)).length === 0) throw new AppError("NOT_FOUND", `Group '${group}' was not found.`);
  await setGroupMembership(ctx.db, group, username, false);
}

/** `auth.groups.add`. @throws AppError INVALID_REQUEST `Bad request: group already exists?` */
export async function addGroup(ctx: InstanceContext, name: string): Promise<void> {
  if (!/^[\w.@+ -]{1,150}$/.test(name))
    throw new AppError("INVALID_REQUEST", `Invalid group name '${name}': 1 to 150 letters, digits, spaces or @.+-_`);
  if ((await createGroup(ctx.db, name)) === "exists") throw new AppError("INVALID_REQUEST", "Bad request: group already exists?");
  ctx.logger.info({ group: name }, "group added");
}

/** `auth.groups.delete`. @throws AppError NOT_FOUND `Bad request: group does not exists` */
export async function removeGroup(ctx: InstanceContext, name: string): Promise<void> {
  if (!(await deleteGroup(ctx.db, name))) throw new AppError("NOT_FOUND", "Bad request: group does not exists");
  ctx.logger.info({ group: name }, "group deleted");
}

/** Every group, or one. @throws AppError NOT_FOUND `Group 'x' was not found.` when `name` is unknown */
export async function listGroups(ctx: InstanceContext, name?: string): Promise<{ id: number; name: string; users: string[] }[]> {
  const rows = await findGroupsWithUsers(ctx.db, name);
  if (name !== undefined && rows.length === 0) throw new AppError("NOT_FOUND", `Group '${name}' was not found.`);
  return rows;
}
