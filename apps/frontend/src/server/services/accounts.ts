import {
  AccountError,
  addGroupMember,
  createApiToken,
  createGroup,
  createUser,
  deleteApiToken,
  deleteUser,
  grantGroupLab,
  listApiTokens,
  listGroups,
  listInstances,
  listUsers,
  removeGroupMember,
  revokeGroupLab,
  updateUser,
  type FrontendDb,
  type TApiTokenSummary,
  type TGroupSummary,
  type TUserSummary,
} from "@magma/db/frontend";
import { z } from "zod";
import { AppError } from "../app-error.ts";
import { generateSecretToken, hashPassword, tokenDigest } from "../auth/secrets.ts";

/**
 * Account management shared by the admin page (tRPC `admin.*`), the `npm run users` CLI and the
 * personal token page. Names follow Django's (and so LAVA's) user-name rule, because a frontend
 * user submits to labs under the same name.
 */

/** Letters, digits and @ . + - _ (Django's username characters), 1–150. */
export const ZUsername = z
  .string()
  .min(1, "username must not be empty")
  .max(150, "username is longer than 150 characters")
  .regex(/^[A-Za-z0-9@.+_-]+$/, "username may hold only letters, digits and @ . + - _");
/** Group names: letters, digits and . _ -, 1–150. */
export const ZGroupName = z
  .string()
  .min(1, "group must not be empty")
  .max(150, "group is longer than 150 characters")
  .regex(/^[A-Za-z0-9._-]+$/, "group may hold only letters, digits and . _ -");
/** Passwords: at least 8 characters, at most 1024. */
export const ZPassword = z.string().min(8, "password must be at least 8 characters").max(1024, "password is longer than 1024 characters");

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new AppError("INVALID_REQUEST", {
      message: `${field} "${String(value).slice(0, 60)}": ${r.error.issues.map((i) => i.message).join("; ")}`,
    });
  return r.data;
}

/** AccountError → AppError (409 for a taken name, 404 for an unknown one). */
async function mapped<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof AccountError) throw new AppError(e.kind === "exists" ? "CONFLICT" : "NOT_FOUND", { message: e.message, cause: e });
    throw e;
  }
}

/**
 * Creates a user, optionally with a password and group memberships.
 * @throws AppError INVALID_REQUEST (bad name/password), CONFLICT (name taken), NOT_FOUND (group)
 */
export async function addUser(
  db: FrontendDb,
  input: { username: string; password?: string | null; superuser?: boolean; groups?: string[] },
): Promise<void> {
  const username = check(ZUsername, input.username, "username");
  const password = input.password ? check(ZPassword, input.password, "password") : null;
  const groups = (input.groups ?? []).map((g) => check(ZGroupName, g, "group"));
  const existing = new Set((await listGroups(db)).map((g) => g.name));
  const missing = groups.find((g) => !existing.has(g));
  if (missing) throw new AppError("NOT_FOUND", { message: `group "${missing}" does not exist (create it first)` });
  const passwordHash = password ? await hashPassword(password) : null;
  await mapped(() => createUser(db, { username, passwordHash, isSuperuser: !!input.superuser }));
  for (const g of groups) await mapped(() => addGroupMember(db, g, username));
}

/** Sets a user's password. @throws AppError INVALID_REQUEST, NOT_FOUND */
export async function setPassword(db: FrontendDb, username: string, password: string): Promise<void> {
  const pw = check(ZPassword, password, "password");
  const passwordHash = await hashPassword(pw);
  await mapped(() => updateUser(db, username, { passwordHash }));
}

/** Makes a user a superuser or not. @throws AppError NOT_FOUND */
export async function setSuperuser(db: FrontendDb, username: string, superuser: boolean): Promise<void> {
  await mapped(() => updateUser(db, username, { isSuperuser: superuser }));
}

/** Deletes a user; their sessions and tokens stop working at once. @throws AppError NOT_FOUND */
export async function removeUser(db: FrontendDb, username: string): Promise<void> {
  await mapped(() => deleteUser(db, username));
}

/** Creates a group. @throws AppError INVALID_REQUEST, CONFLICT */
export async function addGroup(db: FrontendDb, name: string): Promise<void> {
  const g = check(ZGroupName, name, "group");
  await mapped(() => createGroup(db, g));
}

/** Adds a user to a group. @throws AppError NOT_FOUND */
export async function addMember(db: FrontendDb, group: string, username: string): Promise<void> {
  await mapped(() => addGroupMember(db, group, username));
}

/** Lets a group's members submit to a lab. @throws AppError NOT_FOUND (group or lab) */
export async function grantLab(db: FrontendDb, group: string, lab: string): Promise<void> {
  await mapped(() => grantGroupLab(db, group, lab));
}

/** Takes a user out of a group (no-op when not a member). @throws AppError NOT_FOUND (group) */
export async function removeMember(db: FrontendDb, group: string, username: string): Promise<void> {
  await mapped(() => removeGroupMember(db, group, username));
}

/** Stops a group's members submitting to a lab (no-op without a grant). @throws AppError NOT_FOUND (group) */
export async function revokeLab(db: FrontendDb, group: string, lab: string): Promise<void> {
  await mapped(() => revokeGroupLab(db, group, lab));
}

/**
 * Creates a personal API token for a user. The token is returned once and stored only as its
 * SHA-256 digest.
 * @param value a chosen token (the demo's MAGMA_DEMO_TOKEN), else a random one
 * @throws AppError NOT_FOUND (user), INVALID_REQUEST (chosen value shorter than 16), CONFLICT
 */
export async function createToken(
  db: FrontendDb,
  username: string,
  description = "",
  value?: string,
): Promise<{ token: string; summary: TApiTokenSummary }> {
  if (value !== undefined && (value.length < 16 || /\s/.test(value))) {
    throw new AppError("INVALID_REQUEST", { message: "token: a chosen token must be at least 16 characters without spaces" });
  }
  const token = value ?? generateSecretToken();
  const summary = await mapped(() =>
    createApiToken(db, { username, digest: tokenDigest(token), prefix: token.slice(0, 8), description: description.slice(0, 200) }),
  );
  return { token, summary };
}

/** A user's tokens (prefixes only). */
export function listTokens(db: FrontendDb, userId: number): Promise<TApiTokenSummary[]> {
  return listApiTokens(db, userId);
}

/** Revokes one of the user's tokens. @throws AppError NOT_FOUND */
export async function revokeToken(db: FrontendDb, userId: number, tokenId: number): Promise<void> {
  if (!(await deleteApiToken(db, userId, tokenId))) throw new AppError("NOT_FOUND", { message: `You have no token ${tokenId}` });
}

/** What the admin page shows: users, groups (members, labs) and the configured labs. */
export async function adminOverview(db: FrontendDb): Promise<{ users: TUserSummary[]; groups: TGroupSummary[]; labs: string[] }> {
  const [users, groups, labs] = await Promise.all([listUsers(db), listGroups(db), listInstances(db)]);
  return { users, groups, labs: labs.map((l) => l.name) };
}
