import { parseJobDefinition, formatDefinitionErrors } from "@magma/protocol";
import type { InstanceDb } from "@magma/db/instance";
import { digestSecret } from "@magma/db/secrets";
import type { TLabFile } from "./lab-file.ts";
import { addToGroups, storeApiToken } from "../auth/api-tokens.ts";

/**
 * Upserts a lab file into the database, idempotently (run it again and nothing changes): users and
 * their tokens by secret (stored as SHA-256 digests, sealed too when `opts.secretKey` is set), workers'
 * tokens as digests, workers by hostname (new workers start Offline, as LAVA), device types by
 * name (health check validated first), devices by hostname (state untouched when they exist, so a
 * re-seed never disturbs a running job; health set only on creation).
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
  const typeNames = new Set([...lab.device_types.map((t) => t.name), ...(await db.deviceType.findMany({ select: { name: true } })).map((t) => t.name)]);
  const workerNames = new Set([...lab.workers.map((w) => w.hostname), ...(await db.worker.findMany({ select: { hostname: true } })).map((w) => w.hostname)]);
  for (const [i, d] of lab.devices.entries()) {
    if (!typeNames.has(d.device_type)) throw new Error(`devices[${i}].device_type: device type '${d.device_type}' is not defined`);
    if (!workerNames.has(d.worker)) throw new Error(`devices[${i}].worker: worker '${d.worker}' is not defined`);
  }
  await db.$transaction(async (tx) => {
    for (const u of lab.users) {
      const user = await tx.user.upsert({ where: { username: u.username }, create: { username: u.username, isSuperuser: u.superuser }, update: { isSuperuser: u.superuser } });
      for (const t of u.tokens) {
        await storeApiToken(tx, { userId: user.id, secret: t.secret, description: t.description, secretKey: opts.secretKey ?? null, federation: t.federation });
      }
      await addToGroups(tx, user.id, u.groups);
    }
    for (const w of lab.workers) {
      await tx.worker.upsert({
        where: { hostname: w.hostname },
        create: { hostname: w.hostname, tokenDigest: digestSecret(w.token), description: w.description ?? null, jobLimit: w.job_limit },
        update: { tokenDigest: digestSecret(w.token), description: w.description ?? null, jobLimit: w.job_limit },
      });
    }
    for (const t of lab.device_types) {
      const data = {
        description: t.description ?? null,
        healthCheckDefinition: t.health_check ?? null,
        healthFrequency: t.health_frequency,
        healthDenominator: t.health_denominator,
        disableHealthCheck: t.disable_health_check,
        dictionary: t.dictionary as object,
      };
      await tx.deviceType.upsert({ where: { name: t.name }, create: { name: t.name, ...data }, update: data });
    }
    for (const d of lab.devices) {
      const deviceType = await tx.deviceType.findUniqueOrThrow({ where: { name: d.device_type } });
      const worker = await tx.worker.findUniqueOrThrow({ where: { hostname: d.worker } });
      const data = { description: d.description ?? null, deviceTypeId: deviceType.id, workerId: worker.id, tags: d.tags, dictionary: d.dictionary as object };
      await tx.device.upsert({ where: { hostname: d.hostname }, create: { hostname: d.hostname, health: d.health, ...data }, update: data });
    }
  });
  return { users: lab.users.length, workers: lab.workers.length, device_types: lab.device_types.length, devices: lab.devices.length };
}
