import { findDeviceTypeId, type InstanceDb } from "@magma/db/instance";

/** How long a device type's id is trusted without asking the database again, ms. */
export const DEVICE_TYPE_ID_TTL_MS = 60_000;

interface Entry {
  id: number;
  at: number;
}
const caches = new WeakMap<InstanceDb, Map<string, Entry>>();

/**
 * The id of the device type named `name`, from a per-client cache of names seen to exist (device
 * types are never renamed; a missing type is always asked again, so one created by the CLI or the
 * seed is found at once). Entries expire after {@link DEVICE_TYPE_ID_TTL_MS};
 * {@link forgetDeviceTypeId} drops one whose id turned out stale (e.g. a foreign-key violation).
 * @returns the id, or null when no such device type exists
 */
export async function deviceTypeIdByName(db: InstanceDb, name: string): Promise<number | null> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(name);
  const now = Date.now();
  if (hit && now - hit.at < DEVICE_TYPE_ID_TTL_MS) return hit.id;
  const id = await findDeviceTypeId(db, name);
  if (id === null) {
    cache.delete(name);
    return null;
  }
  cache.set(name, { id, at: now });
  return id;
}

/** Drops the cached id of `name` (or every cached id of `db`). */
export function forgetDeviceTypeId(db: InstanceDb, name?: string): void {
  if (name === undefined) caches.delete(db);
  else caches.get(db)?.delete(name);
}
