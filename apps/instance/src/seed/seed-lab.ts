import { parseJobDefinition, formatDefinitionErrors } from "@magma/protocol";
import { storedTypeAndWorkerNames, upsertLabSeed, type InstanceDb } from "@magma/db/instance";
import type { TLabFile } from "./lab-file.ts";

/**
 * Upserts a lab file into the database, idempotently (run it again and nothing changes): users and
 * their tokens by secret (stored as SHA-256 digests, sealed too when `opts.secretKey` is set), workers'
 * tokens as digests, workers by hostname (new workers start Offline, as LAVA), device types by
 * name (health check validated first), devices by hostname (state untouched when they exist, so a
 * re-seed never disturbs a running job; health set only on creation). Validates here, writes through
 * the `upsertLabSeed` repository in one transaction.
 * @returns counts of each kind seeded
 * @throws Error naming the device type whose health check is invalid, or the unknown device type / worker a device names
 */
export async function seedLab(db: InstanceDb, lab: TLabFile, opts: { secretKey?: string | null } = {}): Promise<Record<string, number>> {
  for (const dt of lab.device_types) {
    if (dt.health_check) {
      const r = parseJobDefinition(dt.health_check);
      if (!r.ok) throw new Error(`device_types '${dt.name}' health_check: ${formatDefinitionErrors(r.errors)}`);
    }
  }
  const stored = await storedTypeAndWorkerNames(db);
  const typeNames = new Set([...lab.device_types.map((t) => t.name), ...stored.deviceTypes]);
  const workerNames = new Set([...lab.workers.map((w) => w.hostname), ...stored.workers]);
  for (const [i, d] of lab.devices.entries()) {
    if (!typeNames.has(d.device_type)) throw new Error(`devices[${i}].device_type: device type '${d.device_type}' is not defined`);
    if (!workerNames.has(d.worker)) throw new Error(`devices[${i}].worker: worker '${d.worker}' is not defined`);
  }
  await upsertLabSeed(db, lab, opts.secretKey ?? null);
  return { users: lab.users.length, workers: lab.workers.length, device_types: lab.device_types.length, devices: lab.devices.length };
}
