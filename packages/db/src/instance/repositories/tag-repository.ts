import type { InstanceDb, InstanceTx } from "../client.ts";

/** The tag catalogue and device-type aliases (LAVA `scheduler.tags.*`, `scheduler.aliases.*`). */

/** Tags by name with their descriptions. */
export async function listTagRecords(db: InstanceDb | InstanceTx): Promise<{ name: string; description: string | null }[]> {
  return db.tag.findMany({ orderBy: { name: "asc" }, select: { name: true, description: true } });
}

/** The tag called `name`, or null. */
export async function findTag(db: InstanceDb | InstanceTx, name: string): Promise<{ name: string; description: string | null } | null> {
  return db.tag.findUnique({ where: { name }, select: { name: true, description: true } });
}

/** Creates tag `name`. @throws the database's unique violation when it exists (check with {@link findTag} first) */
export async function createTag(db: InstanceDb | InstanceTx, name: string, description: string | null): Promise<void> {
  await db.tag.create({ data: { name, description } });
}

/** Hostnames of the devices carrying `tag`, sorted. */
export async function deviceHostnamesWithTag(db: InstanceDb | InstanceTx, tag: string): Promise<string[]> {
  const rows = await db.device.findMany({ where: { tags: { has: tag } }, select: { hostname: true }, orderBy: { hostname: "asc" } });
  return rows.map((d) => d.hostname);
}

/** Removes `name` from every device and from the catalogue, in one transaction. */
export async function deleteTagEverywhere(db: InstanceDb, name: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`UPDATE devices SET tags = array_remove(tags, ${name}) WHERE ${name} = ANY(tags)`;
    await tx.tag.delete({ where: { name } });
  });
}

/** Alias names, sorted. */
export async function listAliasNames(db: InstanceDb | InstanceTx): Promise<string[]> {
  return (await db.alias.findMany({ orderBy: { name: "asc" }, select: { name: true } })).map((a) => a.name);
}

/** The alias called `name` with its device type's name, or null. */
export async function findAlias(db: InstanceDb | InstanceTx, name: string): Promise<{ name: string; deviceType: string } | null> {
  const a = await db.alias.findUnique({ where: { name }, include: { deviceType: { select: { name: true } } } });
  return a ? { name: a.name, deviceType: a.deviceType.name } : null;
}

/** Creates alias `name` of device type `deviceTypeId`. */
export async function createAlias(db: InstanceDb | InstanceTx, name: string, deviceTypeId: number): Promise<void> {
  await db.alias.create({ data: { name, deviceTypeId } });
}

/** Deletes alias `name`. */
export async function deleteAliasByName(db: InstanceDb | InstanceTx, name: string): Promise<void> {
  await db.alias.delete({ where: { name } });
}
