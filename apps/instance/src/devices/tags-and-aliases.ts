import type { InstanceDb } from "@magma/db/instance";
import { AppError } from "../app-error.ts";

/** The tag catalogue by name (LAVA `tags.list`). */
export async function listTags(db: InstanceDb): Promise<{ name: string; description: string | null }[]> {
  return db.tag.findMany({ orderBy: { name: "asc" }, select: { name: true, description: true } });
}

/** Creates a tag (LAVA `tags.add`). @throws AppError CONFLICT when it exists */
export async function addTag(db: InstanceDb, name: string, description: string | null): Promise<void> {
  if (!name.trim()) throw new AppError("INVALID_REQUEST", "Tag name must not be empty");
  if (await db.tag.findUnique({ where: { name } })) throw new AppError("CONFLICT", `Tag '${name}' already exists.`);
  await db.tag.create({ data: { name, description } });
}

/** A tag with the devices carrying it (LAVA `tags.show`). @throws AppError NOT_FOUND */
export async function showTag(db: InstanceDb, name: string): Promise<{ name: string; description: string | null; devices: string[] }> {
  const t = await db.tag.findUnique({ where: { name } });
  if (!t) throw new AppError("NOT_FOUND", `Tag '${name}' was not found.`);
  const devices = await db.device.findMany({ where: { tags: { has: name } }, select: { hostname: true }, orderBy: { hostname: "asc" } });
  return { name: t.name, description: t.description, devices: devices.map((d) => d.hostname) };
}

/** Removes a tag from the catalogue and from every device (LAVA `tags.delete`). @throws AppError NOT_FOUND */
export async function deleteTag(db: InstanceDb, name: string): Promise<void> {
  await showTag(db, name);
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`UPDATE devices SET tags = array_remove(tags, ${name}) WHERE ${name} = ANY(tags)`;
    await tx.tag.delete({ where: { name } });
  });
}

/** Alias names (LAVA `aliases.list`). */
export async function listAliases(db: InstanceDb): Promise<string[]> {
  return (await db.alias.findMany({ orderBy: { name: "asc" }, select: { name: true } })).map((a) => a.name);
}

/** `{name, device_type}` (LAVA `aliases.show`). @throws AppError NOT_FOUND */
export async function showAlias(db: InstanceDb, name: string): Promise<{ name: string; device_type: string }> {
  const a = await db.alias.findUnique({ where: { name }, include: { deviceType: { select: { name: true } } } });
  if (!a) throw new AppError("NOT_FOUND", `Alias '${name}' was not found.`);
  return { name: a.name, device_type: a.deviceType.name };
}

/** Creates an alias of a device type (LAVA `aliases.add`). @throws AppError NOT_FOUND (type), CONFLICT (alias exists) */
export async function addAlias(db: InstanceDb, name: string, deviceType: string): Promise<void> {
  const t = await db.deviceType.findUnique({ where: { name: deviceType } });
  if (!t) throw new AppError("NOT_FOUND", `Device-type '${deviceType}' was not found.`);
  if (await db.alias.findUnique({ where: { name } })) throw new AppError("CONFLICT", `Alias '${name}' already exists.`);
  await db.alias.create({ data: { name, deviceTypeId: t.id } });
}

/** Deletes an alias (LAVA `aliases.delete`). @throws AppError NOT_FOUND */
export async function deleteAlias(db: InstanceDb, name: string): Promise<void> {
  await showAlias(db, name);
  await db.alias.delete({ where: { name } });
}
