import {
  createAlias,
  createTag,
  deleteAliasByName,
  deleteTagEverywhere,
  deviceHostnamesWithTag,
  findAlias,
  findDeviceTypeDetail,
  findTag,
  listAliasNames,
  listTagRecords,
  type InstanceDb,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";

/** The tag catalogue by name (LAVA `tags.list`). */
export async function listTags(db: InstanceDb): Promise<{ name: string; description: string | null }[]> {
  return listTagRecords(db);
}

/** Creates a tag (LAVA `tags.add`). @throws AppError CONFLICT when it exists */
export async function addTag(db: InstanceDb, name: string, description: string | null): Promise<void> {
  if (!name.trim()) throw new AppError("INVALID_REQUEST", "Tag name must not be empty");
  if (await findTag(db, name)) throw new AppError("CONFLICT", `Tag '${name}' already exists.`);
  await createTag(db, name, description);
}

/** A tag with the devices carrying it (LAVA `tags.show`). @throws AppError NOT_FOUND */
export async function showTag(db: InstanceDb, name: string): Promise<{ name: string; description: string | null; devices: string[] }> {
  const t = await findTag(db, name);
  if (!t) throw new AppError("NOT_FOUND", `Tag '${name}' was not found.`);
  return { name: t.name, description: t.description, devices: await deviceHostnamesWithTag(db, name) };
}

/** Removes a tag from the catalogue and from every device (LAVA `tags.delete`). @throws AppError NOT_FOUND */
export async function deleteTag(db: InstanceDb, name: string): Promise<void> {
  await showTag(db, name);
  await deleteTagEverywhere(db, name);
}

/** Alias names (LAVA `aliases.list`). */
export async function listAliases(db: InstanceDb): Promise<string[]> {
  return listAliasNames(db);
}

/** `{name, device_type}` (LAVA `aliases.show`). @throws AppError NOT_FOUND */
export async function showAlias(db: InstanceDb, name: string): Promise<{ name: string; device_type: string }> {
  const a = await findAlias(db, name);
  if (!a) throw new AppError("NOT_FOUND", `Alias '${name}' was not found.`);
  return { name: a.name, device_type: a.deviceType };
}

/** Creates an alias of a device type (LAVA `aliases.add`). @throws AppError NOT_FOUND (type), CONFLICT (alias exists) */
export async function addAlias(db: InstanceDb, name: string, deviceType: string): Promise<void> {
  const t = await findDeviceTypeDetail(db, deviceType);
  if (!t) throw new AppError("NOT_FOUND", `Device-type '${deviceType}' was not found.`);
  if (await findAlias(db, name)) throw new AppError("CONFLICT", `Alias '${name}' already exists.`);
  await createAlias(db, name, t.id);
}

/** Deletes an alias (LAVA `aliases.delete`). @throws AppError NOT_FOUND */
export async function deleteAlias(db: InstanceDb, name: string): Promise<void> {
  await showAlias(db, name);
  await deleteAliasByName(db, name);
}
