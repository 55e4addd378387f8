import { Prisma } from "../../generated/frontend/client";
import type { FrontendDb } from "../client.ts";
import type { TApiTokenSummary, TGroupSummary, TUserSummary, TViewer } from "../dto.ts";

/**
 * Users, groups, group lab grants, browser sessions and personal API tokens of the frontend.
 * Secrets never reach this layer in clear: sessions and API tokens are looked up by the SHA-256
 * digest the caller computed, passwords arrive as argon2 PHC strings.
 */

/** Thrown for a name that is taken or unknown; `field` names what was wrong. */
export class AccountError extends Error {
  constructor(
    readonly kind: "exists" | "not_found",
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "AccountError";
  }
}

const viewerInclude = { memberships: { include: { group: { select: { name: true } } } } } as const;
type ViewerRow = Prisma.UserGetPayload<{ include: typeof viewerInclude }>;
const toViewer = (u: ViewerRow): TViewer => ({
  userId: u.id,
  username: u.username,
  isSuperuser: u.is_superuser,
  groups: u.memberships.map((m) => m.group.name).sort(),
});

/**
 * Creates a user.
 * @param passwordHash argon2 PHC string, or null for an account without a password (token only)
 * @throws AccountError exists (username taken)
 */
export async function createUser(
  db: FrontendDb,
  input: { username: string; passwordHash: string | null; isSuperuser: boolean },
): Promise<TViewer> {
  try {
    const u = await db.user.create({
      data: { username: input.username, password_hash: input.passwordHash, is_superuser: input.isSuperuser },
      include: viewerInclude,
    });
    return toViewer(u);
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AccountError("exists", "username", `user "${input.username}" already exists`);
    throw e;
  }
}

/** Sets (or clears) a user's password hash and/or superuser flag. @throws AccountError not_found */
export async function updateUser(
  db: FrontendDb,
  username: string,
  data: { passwordHash?: string | null; isSuperuser?: boolean },
): Promise<void> {
  const { count } = await db.user.updateMany({
    where: { username },
    data: {
      ...(data.passwordHash !== undefined ? { password_hash: data.passwordHash } : {}),
      ...(data.isSuperuser !== undefined ? { is_superuser: data.isSuperuser } : {}),
    },
  });
  if (!count) throw new AccountError("not_found", "username", `user "${username}" does not exist`);
}

/** Deletes a user with their sessions and tokens (their submissions stay, without an owner). @throws AccountError not_found */
export async function deleteUser(db: FrontendDb, username: string): Promise<void> {
  const { count } = await db.user.deleteMany({ where: { username } });
  if (!count) throw new AccountError("not_found", "username", `user "${username}" does not exist`);
}

/** A user's login data (id, password hash) by name, or null. */
export async function findUserCredentials(
  db: FrontendDb,
  username: string,
): Promise<{ userId: number; passwordHash: string | null } | null> {
  const u = await db.user.findUnique({ where: { username }, select: { id: true, password_hash: true } });
  return u ? { userId: u.id, passwordHash: u.password_hash } : null;
}

/** The viewer for a user name, or null when no such user exists. */
export async function findViewerByUsername(db: FrontendDb, username: string): Promise<TViewer | null> {
  const u = await db.user.findUnique({ where: { username }, include: viewerInclude });
  return u ? toViewer(u) : null;
}

/** The viewer of a user id (a submission's owner, for decisions made later on their behalf), or null. */
export async function findViewerByUserId(db: FrontendDb, userId: number): Promise<TViewer | null> {
  const u = await db.user.findUnique({ where: { id: userId }, include: viewerInclude });
  return u ? toViewer(u) : null;
}

/** Every user with their groups, by name. */
export async function listUsers(db: FrontendDb): Promise<TUserSummary[]> {
  const users = await db.user.findMany({ orderBy: { username: "asc" }, include: viewerInclude });
  return users.map((u) => ({
    id: u.id,
    username: u.username,
    isSuperuser: u.is_superuser,
    hasPassword: u.password_hash !== null,
    groups: u.memberships.map((m) => m.group.name).sort(),
    createdAt: u.created_at.toISOString(),
  }));
}

/** Creates a group. @throws AccountError exists */
export async function createGroup(db: FrontendDb, name: string): Promise<void> {
  try {
    await db.group.create({ data: { name } });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AccountError("exists", "group", `group "${name}" already exists`);
    throw e;
  }
}

async function groupId(db: FrontendDb, name: string): Promise<number> {
  const g = await db.group.findUnique({ where: { name }, select: { id: true } });
  if (!g) throw new AccountError("not_found", "group", `group "${name}" does not exist`);
  return g.id;
}

/** Adds a user to a group (idempotent). @throws AccountError not_found (user or group) */
export async function addGroupMember(db: FrontendDb, group: string, username: string): Promise<void> {
  const gid = await groupId(db, group);
  const u = await db.user.findUnique({ where: { username }, select: { id: true } });
  if (!u) throw new AccountError("not_found", "username", `user "${username}" does not exist`);
  await db.groupMembership.createMany({ data: [{ group_id: gid, user_id: u.id }], skipDuplicates: true });
}

/** Removes a user from a group (no-op when not a member). @throws AccountError not_found (group) */
export async function removeGroupMember(db: FrontendDb, group: string, username: string): Promise<void> {
  const gid = await groupId(db, group);
  await db.groupMembership.deleteMany({ where: { group_id: gid, user: { username } } });
}

/** Lets a group's members submit to a lab (idempotent). @throws AccountError not_found (group or lab) */
export async function grantGroupLab(db: FrontendDb, group: string, lab: string): Promise<void> {
  const gid = await groupId(db, group);
  const i = await db.instance.findUnique({ where: { name: lab }, select: { id: true } });
  if (!i) throw new AccountError("not_found", "lab", `lab "${lab}" is not configured`);
  await db.groupLab.createMany({ data: [{ group_id: gid, instance_id: i.id }], skipDuplicates: true });
}

/** Withdraws a group's lab grant (no-op when absent). @throws AccountError not_found (group) */
export async function revokeGroupLab(db: FrontendDb, group: string, lab: string): Promise<void> {
  const gid = await groupId(db, group);
  await db.groupLab.deleteMany({ where: { group_id: gid, instance: { name: lab } } });
}

/** Every group with its members and granted labs, by name. */
export async function listGroups(db: FrontendDb): Promise<TGroupSummary[]> {
  const gs = await db.group.findMany({
    orderBy: { name: "asc" },
    include: {
      members: { include: { user: { select: { username: true } } } },
      labs: { include: { instance: { select: { name: true } } } },
    },
  });
  return gs.map((g) => ({
    id: g.id,
    name: g.name,
    members: g.members.map((m) => m.user.username).sort(),
    labs: g.labs.map((l) => l.instance.name).sort(),
  }));
}

/**
 * Names of the labs a viewer may submit to: every configured lab for a superuser, else the labs
 * granted to any of the viewer's groups. Sorted.
 */
export async function labsViewerMaySubmitTo(db: FrontendDb, viewer: TViewer): Promise<string[]> {
  const labs = await db.instance.findMany({
    where: viewer.isSuperuser ? {} : { groups: { some: { group: { members: { some: { user_id: viewer.userId } } } } } },
    select: { name: true },
    orderBy: { name: "asc" },
  });
  return labs.map((l) => l.name);
}

/** Stores a session under the digest of its token. */
export async function createSession(db: FrontendDb, input: { digest: string; userId: number; expiresAt: Date }): Promise<void> {
  await db.userSession.create({ data: { id: input.digest, user_id: input.userId, expires_at: input.expiresAt } });
}

/**
 * The session stored under `digest` with its user, or null when unknown or expired (an expired
 * session is deleted on sight).
 */
export async function findSession(db: FrontendDb, digest: string, now = new Date()): Promise<{ viewer: TViewer; expiresAt: Date } | null> {
  const s = await db.userSession.findUnique({ where: { id: digest }, include: { user: { include: viewerInclude } } });
  if (!s) return null;
  if (s.expires_at.getTime() <= now.getTime()) {
    await db.userSession.deleteMany({ where: { id: digest } });
    return null;
  }
  return { viewer: toViewer(s.user), expiresAt: s.expires_at };
}

/** Moves a session's expiry (sliding sessions). */
export async function extendSession(db: FrontendDb, digest: string, expiresAt: Date): Promise<void> {
  await db.userSession.updateMany({ where: { id: digest }, data: { expires_at: expiresAt } });
}

/** Deletes one session (logout); no-op when unknown. */
export async function deleteSession(db: FrontendDb, digest: string): Promise<void> {
  await db.userSession.deleteMany({ where: { id: digest } });
}

/** Deletes expired sessions. @returns how many */
export async function pruneSessions(db: FrontendDb, now = new Date()): Promise<number> {
  return (await db.userSession.deleteMany({ where: { expires_at: { lte: now } } })).count;
}

/**
 * Stores a personal API token by its digest.
 * @param prefix the token's first characters, shown in listings
 * @throws AccountError not_found (user), exists (the same token already stored)
 */
export async function createApiToken(
  db: FrontendDb,
  input: { username: string; digest: string; prefix: string; description: string },
): Promise<TApiTokenSummary> {
  const u = await db.user.findUnique({ where: { username: input.username }, select: { id: true } });
  if (!u) throw new AccountError("not_found", "username", `user "${input.username}" does not exist`);
  try {
    const t = await db.apiToken.create({
      data: { user_id: u.id, digest: input.digest, prefix: input.prefix, description: input.description },
    });
    return { id: t.id, description: t.description, prefix: t.prefix, lastUsed: null, createdAt: t.created_at.toISOString() };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AccountError("exists", "token", "this token is already stored");
    throw e;
  }
}

/**
 * The owner of the API token with this digest, recording `last_used` (at most once a minute per
 * token, so a busy script does not write on every request), or null when unknown (revoked, or its
 * user deleted).
 */
export async function authenticateApiToken(db: FrontendDb, digest: string, now = new Date()): Promise<TViewer | null> {
  const t = await db.apiToken.findUnique({ where: { digest }, include: { user: { include: viewerInclude } } });
  if (!t) return null;
  if (!t.last_used || now.getTime() - t.last_used.getTime() > 60_000)
    await db.apiToken.updateMany({ where: { id: t.id }, data: { last_used: now } });
  return toViewer(t.user);
}

/** A user's tokens, newest first. */
export async function listApiTokens(db: FrontendDb, userId: number): Promise<TApiTokenSummary[]> {
  const ts = await db.apiToken.findMany({ where: { user_id: userId }, orderBy: { id: "desc" } });
  return ts.map((t) => ({
    id: t.id,
    description: t.description,
    prefix: t.prefix,
    lastUsed: t.last_used?.toISOString() ?? null,
    createdAt: t.created_at.toISOString(),
  }));
}

/** Revokes one of a user's tokens. @returns false when the user has no such token */
export async function deleteApiToken(db: FrontendDb, userId: number, tokenId: number): Promise<boolean> {
  return (await db.apiToken.deleteMany({ where: { id: tokenId, user_id: userId } })).count > 0;
}
