import type { TDeviceHealth, TWorkerHealth } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";

/**
 * Creating and deleting what a lab is made of — devices, device types, workers, users, groups — as
 * LAVA's XML-RPC `scheduler.devices.add/delete`, `scheduler.device_types.add`,
 * `scheduler.workers.add/delete`, `auth.users.*` and `auth.groups.*` do. Each function returns what
 * happened (`"exists"`, `"missing"`, `"busy"` …) instead of throwing, so the caller words the fault.
 */

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === "P2002";

/** Creates a device (state Idle). @returns "created", or "exists" when the hostname is taken */
export async function createDevice(
  db: InstanceDb | InstanceTx,
  d: { hostname: string; deviceTypeId: number; workerId: number; health: TDeviceHealth; description: string | null },
): Promise<"created" | "exists"> {
  try {
    await db.device.create({
      data: {
        hostname: d.hostname,
        deviceTypeId: d.deviceTypeId,
        workerId: d.workerId,
        health: d.health,
        description: d.description,
        state: "Idle",
      },
    });
    return "created";
  } catch (e) {
    if (isUniqueViolation(e)) return "exists";
    throw e;
  }
}

/**
 * Deletes device `hostname` unless it runs a job (its past jobs keep their results, with no device).
 * @returns "deleted", "missing", or "busy" (a job is on it)
 */
export async function deleteDevice(db: InstanceDb, hostname: string): Promise<"deleted" | "missing" | "busy"> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: number; current_job_id: number | null }[]>`
      SELECT id, current_job_id FROM devices WHERE hostname = ${hostname} FOR UPDATE`;
    const row = rows[0];
    if (!row) return "missing";
    if (row.current_job_id !== null) return "busy";
    await tx.device.delete({ where: { id: row.id } });
    return "deleted";
  });
}

/** Creates a device type. @returns "created", or "exists" when the name is taken */
export async function createDeviceType(
  db: InstanceDb | InstanceTx,
  t: { name: string; description: string | null; display: boolean; healthFrequency: number; healthDenominator: "hours" | "jobs" },
): Promise<"created" | "exists"> {
  try {
    await db.deviceType.create({ data: t });
    return "created";
  } catch (e) {
    if (isUniqueViolation(e)) return "exists";
    throw e;
  }
}

/** Every device type's own jinja2 template, by `<name>.jinja2` (types without one are absent). */
export async function listStoredDeviceTypeTemplates(db: InstanceDb | InstanceTx): Promise<Map<string, string>> {
  const rows = await db.deviceType.findMany({ where: { templateJinja2: { not: null } }, select: { name: true, templateJinja2: true } });
  return new Map(rows.map((r) => [`${r.name}.jinja2`, r.templateJinja2!]));
}

/** Creates a worker with the digest of its token. @returns "created", or "exists" when the hostname is taken */
export async function createWorker(
  db: InstanceDb | InstanceTx,
  w: { hostname: string; description: string | null; health: TWorkerHealth; tokenDigest: string },
): Promise<"created" | "exists"> {
  try {
    await db.worker.create({ data: w });
    return "created";
  } catch (e) {
    if (isUniqueViolation(e)) return "exists";
    throw e;
  }
}

/**
 * Deletes worker `hostname` unless one of its devices runs a job; its devices stay, with no worker
 * (they get no jobs until `devices update --worker` gives them one).
 * @returns "deleted", "missing" or "busy"
 */
export async function deleteWorker(db: InstanceDb, hostname: string): Promise<"deleted" | "missing" | "busy"> {
  return db.$transaction(async (tx) => {
    const w = await tx.worker.findUnique({ where: { hostname }, select: { id: true } });
    if (!w) return "missing";
    const busy = await tx.device.count({ where: { workerId: w.id, currentJobId: { not: null } } });
    if (busy > 0) return "busy";
    await tx.worker.delete({ where: { id: w.id } });
    return "deleted";
  });
}

/** A user as `auth.users.show` reads it. */
export interface TUserAdminView {
  id: number;
  username: string;
  isSuperuser: boolean;
  createdAt: Date;
  groups: string[];
}

/** Every user by name, or the one called `username`, with group names (sorted). */
export async function findUsersForAdmin(db: InstanceDb | InstanceTx, username?: string): Promise<TUserAdminView[]> {
  const rows = await db.user.findMany({
    where: username === undefined ? {} : { username },
    orderBy: { username: "asc" },
    include: { memberships: { include: { group: { select: { name: true } } } } },
  });
  return rows.map((u) => ({
    id: u.id,
    username: u.username,
    isSuperuser: u.isSuperuser,
    createdAt: u.createdAt,
    groups: u.memberships.map((m) => m.group.name).sort(),
  }));
}

/** Creates a user. @returns "created" or "exists" */
export async function createUser(db: InstanceDb | InstanceTx, username: string, isSuperuser: boolean): Promise<"created" | "exists"> {
  try {
    await db.user.create({ data: { username, isSuperuser } });
    return "created";
  } catch (e) {
    if (isUniqueViolation(e)) return "exists";
    throw e;
  }
}

/** Sets a user's superuser flag. @returns false when there is no such user */
export async function setUserSuperuser(db: InstanceDb | InstanceTx, username: string, isSuperuser: boolean): Promise<boolean> {
  const r = await db.user.updateMany({ where: { username }, data: { isSuperuser } });
  return r.count > 0;
}

/**
 * Deletes a user with its tokens and memberships, unless it submitted jobs (their history keeps the
 * submitter). @returns "deleted", "missing" or "has-jobs"
 */
export async function deleteUser(db: InstanceDb, username: string): Promise<"deleted" | "missing" | "has-jobs"> {
  return db.$transaction(async (tx) => {
    const u = await tx.user.findUnique({ where: { username }, select: { id: true, _count: { select: { jobs: true } } } });
    if (!u) return "missing";
    if (u._count.jobs > 0) return "has-jobs";
    await tx.user.delete({ where: { id: u.id } });
    return "deleted";
  });
}

/** Creates a group. @returns "created" or "exists" */
export async function createGroup(db: InstanceDb | InstanceTx, name: string): Promise<"created" | "exists"> {
  try {
    await db.group.create({ data: { name } });
    return "created";
  } catch (e) {
    if (isUniqueViolation(e)) return "exists";
    throw e;
  }
}

/** Deletes a group and its memberships. @returns false when there is no such group */
export async function deleteGroup(db: InstanceDb | InstanceTx, name: string): Promise<boolean> {
  const r = await db.group.deleteMany({ where: { name } });
  return r.count > 0;
}

/** Every group by name with its member usernames (sorted), or the one called `name`. */
export async function findGroupsWithUsers(
  db: InstanceDb | InstanceTx,
  name?: string,
): Promise<{ id: number; name: string; users: string[] }[]> {
  const rows = await db.group.findMany({
    where: name === undefined ? {} : { name },
    orderBy: { name: "asc" },
    include: { members: { include: { user: { select: { username: true } } } } },
  });
  return rows.map((g) => ({ id: g.id, name: g.name, users: g.members.map((m) => m.user.username).sort() }));
}
