import { digestSecret } from "../../secrets/index.ts";
import type { InstanceDb } from "../client.ts";
import type { TLabSeed } from "../dto.ts";
import { addToGroups, storeApiToken } from "./account-repository.ts";

/** Names of the device types and workers stored now (a lab seed may name them without defining them). */
export async function storedTypeAndWorkerNames(db: InstanceDb): Promise<{ deviceTypes: string[]; workers: string[] }> {
  const [types, workers] = await Promise.all([
    db.deviceType.findMany({ select: { name: true } }),
    db.worker.findMany({ select: { hostname: true } }),
  ]);
  return { deviceTypes: types.map((t) => t.name), workers: workers.map((w) => w.hostname) };
}

/**
 * Upserts a validated lab seed in ONE transaction, idempotently (run it again and nothing changes):
 * users (superuser flag set as given) and their API tokens by secret digest (sealed too when
 * `secretKey` is set) and groups; workers by hostname with their token's digest (new workers start
 * Offline, as LAVA); device types by name; devices by hostname (state untouched when they exist, so a
 * re-seed never disturbs a running job; health set only on creation).
 * @throws Error from the database when a device names a type or worker that does not exist (validate first)
 */
export async function upsertLabSeed(db: InstanceDb, lab: TLabSeed, secretKey: string | null): Promise<void> {
  await db.$transaction(async (tx) => {
    for (const u of lab.users) {
      const user = await tx.user.upsert({
        where: { username: u.username },
        create: { username: u.username, isSuperuser: u.superuser, ...(u.email !== undefined ? { email: u.email } : {}) },
        update: { isSuperuser: u.superuser, ...(u.email !== undefined ? { email: u.email } : {}) },
      });
      for (const t of u.tokens) {
        await storeApiToken(tx, { userId: user.id, secret: t.secret, description: t.description, secretKey, federation: t.federation });
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
      const data = {
        description: d.description ?? null,
        deviceTypeId: deviceType.id,
        workerId: worker.id,
        tags: d.tags,
        dictionary: d.dictionary as object,
      };
      await tx.device.upsert({
        where: { hostname: d.hostname },
        create: { hostname: d.hostname, health: d.health, ...data },
        update: data,
      });
    }
  });
}
