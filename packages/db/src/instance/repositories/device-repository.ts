import type { TDeviceHealth } from "@magma/protocol";
import type { Prisma } from "../../generated/instance/client";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TDeviceDetail } from "../dto.ts";
import { toDeviceRecord } from "./inventory-repository.ts";

/** Devices as the lab administration reads and changes them (LAVA `scheduler.devices.*`). */

const DEVICE_INCLUDE = {
  deviceType: { select: { name: true, healthCheckDefinition: true, disableHealthCheck: true, dictionary: true } },
  worker: { select: { hostname: true } },
} as const;
type DeviceRow = Prisma.DeviceGetPayload<{ include: typeof DEVICE_INCLUDE }>;

const asRecord = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function fromDeviceRow(d: DeviceRow): TDeviceDetail {
  return {
    id: d.id,
    ...toDeviceRecord(d),
    dictionary: asRecord(d.dictionary),
    deviceTypeDictionary: asRecord(d.deviceType.dictionary),
    dictionaryJinja2: d.dictionaryJinja2,
    deviceTypeHasHealthCheck: !!d.deviceType.healthCheckDefinition,
    deviceTypeHealthCheckDisabled: d.deviceType.disableHealthCheck,
  };
}

/** Devices by hostname; Retired ones only when `showAll` (LAVA `devices.list(show_all)`). */
export async function listDeviceDetails(db: InstanceDb | InstanceTx, showAll: boolean): Promise<TDeviceDetail[]> {
  const rows = await db.device.findMany({
    where: showAll ? {} : { health: { not: "Retired" } },
    include: DEVICE_INCLUDE,
    orderBy: { hostname: "asc" },
  });
  return rows.map(fromDeviceRow);
}

/** The device called `hostname`, or null. */
export async function findDeviceDetail(db: InstanceDb | InstanceTx, hostname: string): Promise<TDeviceDetail | null> {
  const d = await db.device.findUnique({ where: { hostname }, include: DEVICE_INCLUDE });
  return d ? fromDeviceRow(d) : null;
}

/** Puts `tag` into the tag catalogue when it is new (idempotent). */
export async function ensureTag(db: InstanceDb | InstanceTx, tag: string): Promise<void> {
  await db.tag.upsert({ where: { name: tag }, create: { name: tag }, update: {} });
}

/** Replaces the tags of device `hostname`. */
export async function setDeviceTags(db: InstanceDb | InstanceTx, hostname: string, tags: string[]): Promise<void> {
  await db.device.update({ where: { hostname }, data: { tags } });
}

/**
 * Changes what is given of device `deviceId`: health, description, worker (by id); omitted fields
 * stay as they are.
 */
export async function updateDeviceFields(
  db: InstanceDb | InstanceTx,
  deviceId: number,
  f: { health?: TDeviceHealth; description?: string; workerId?: number },
): Promise<void> {
  await db.device.update({ where: { id: deviceId }, data: f });
}

/**
 * Replaces the own dictionary of device `deviceId` (validated by the caller): YAML keys (the jinja2
 * text is cleared), or a jinja2 dictionary text (the keys are cleared), as LAVA replaces the whole file.
 */
export async function setDeviceDictionaryKeys(
  db: InstanceDb | InstanceTx,
  deviceId: number,
  keys: Record<string, unknown>,
  jinja2: string | null = null,
): Promise<void> {
  await db.device.update({
    where: { id: deviceId },
    data: { dictionary: (jinja2 === null ? keys : {}) as object, dictionaryJinja2: jinja2 },
  });
}

/** The device with id `deviceId`, or null. */
export async function findDeviceDetailById(db: InstanceDb | InstanceTx, deviceId: number): Promise<TDeviceDetail | null> {
  const d = await db.device.findUnique({ where: { id: deviceId }, include: DEVICE_INCLUDE });
  return d ? fromDeviceRow(d) : null;
}

/**
 * Sets the health of device `hostname` in one transaction that locks its row first (`FOR UPDATE`),
 * so concurrent changes serialise; writes nothing when the health is already `health`.
 * @returns the health before the call, or null when there is no such device
 */
export async function setDeviceHealthLocked(db: InstanceDb, hostname: string, health: TDeviceHealth): Promise<TDeviceHealth | null> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<
      { health: TDeviceHealth }[]
    >`SELECT health::text AS health FROM devices WHERE hostname = ${hostname} FOR UPDATE`;
    const row = rows[0];
    if (!row) return null;
    if (row.health !== health) await tx.device.update({ where: { hostname }, data: { health } });
    return row.health;
  });
}
