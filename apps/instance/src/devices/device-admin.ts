import { parse as parseYaml, stringify } from "yaml";
import { ZDeviceDictionaryOverrides } from "@magma/protocol";
import type { TDeviceHealth } from "@magma/protocol";
import {
  createDevice,
  deleteDevice,
  ensureTag,
  findDeviceTypeId,
  findDeviceDetail,
  findWorkerDetail,
  listDeviceDetails,
  setDeviceTags,
  updateDeviceFields,
  type InstanceDb,
  type TDeviceDetail,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { renderDeviceConfig } from "./render-device-dictionary.ts";

/** Devices by hostname; Retired ones only when `showAll` (LAVA `devices.list(show_all)`). */
export async function listDevicesWithNames(db: InstanceDb, showAll: boolean): Promise<TDeviceDetail[]> {
  return listDeviceDetails(db, showAll);
}

/** @throws AppError NOT_FOUND `Device '<hostname>' was not found.` (LAVA's text) */
export async function getDevice(db: InstanceDb, hostname: string): Promise<TDeviceDetail> {
  const d = await findDeviceDetail(db, hostname);
  if (!d) throw new AppError("NOT_FOUND", `Device '${hostname}' was not found.`);
  return d;
}

/**
 * The device dictionary as text: unrendered = the device's LAVA jinja2 dictionary when it has one,
 * else its own YAML keys; rendered = the device-type defaults deep-merged with them plus hostname and
 * device_type (exactly what the worker receives).
 */
export async function getDeviceDictionaryText(db: InstanceDb, hostname: string, render: boolean): Promise<string> {
  const d = await getDevice(db, hostname);
  if (render) return renderDeviceConfig(db, d);
  if (d.dictionaryJinja2 !== null) return d.dictionaryJinja2;
  const own = d.dictionary;
  return Object.keys(own).length ? stringify(own, { lineWidth: 0, sortMapEntries: true }) : "";
}

/**
 * Parses a YAML mapping of device-dictionary keys (`{qemu: {memory_mb: 512}}`), as `devices dict set`
 * and `device-types template set` send.
 * @throws AppError INVALID_REQUEST naming the problem (YAML syntax, not a mapping, a jinja2 template,
 *   a key of the wrong type)
 */
export function parseDictionaryYaml(text: string, what: string): Record<string, unknown> {
  if (/\{%|\{\{/.test(text)) {
    throw new AppError(
      "INVALID_REQUEST",
      `${what}: jinja2 templates are not supported by Magma; send the dictionary as a YAML mapping (e.g. "qemu: {memory_mb: 512}")`,
    );
  }
  let v: unknown;
  try {
    v = text.trim() === "" ? {} : parseYaml(text);
  } catch (e) {
    throw new AppError("INVALID_REQUEST", `${what}: invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (v === null || v === undefined) v = {};
  if (typeof v !== "object" || Array.isArray(v)) throw new AppError("INVALID_REQUEST", `${what}: expected a YAML mapping`);
  const r = ZDeviceDictionaryOverrides.safeParse(v);
  if (!r.success)
    throw new AppError(
      "INVALID_REQUEST",
      `${what}: ${r.error.issues.map((i) => `${i.path.join(".") || "dictionary"}: ${i.message}`).join("; ")}`,
    );
  return v as Record<string, unknown>;
}

/** Adds a tag to a device, creating the tag in the catalogue when new (LAVA `devices.tags.add`). */
export async function addDeviceTag(ctx: InstanceContext, hostname: string, tag: string): Promise<void> {
  const d = await getDevice(ctx.db, hostname);
  await ensureTag(ctx.db, tag);
  if (!d.tags.includes(tag)) await setDeviceTags(ctx.db, hostname, [...d.tags, tag]);
  ctx.scheduler?.trigger();
}

/** Removes a tag from a device (LAVA `devices.tags.delete`). @throws AppError NOT_FOUND when the device lacks it */
export async function deleteDeviceTag(ctx: InstanceContext, hostname: string, tag: string): Promise<void> {
  const d = await getDevice(ctx.db, hostname);
  if (!d.tags.includes(tag)) throw new AppError("NOT_FOUND", `Tag '${tag}' was not found on device '${hostname}'.`);
  await setDeviceTags(
    ctx.db,
    hostname,
    d.tags.filter((t) => t !== tag),
  );
}

export interface UpdateDeviceOptions {
  health?: TDeviceHealth | null;
  description?: string | null;
  workerHostname?: string | null;
}

/**
 * Updates a device's health, description or worker (LAVA `devices.update`; lavacli `devices
 * maintenance`), then asks the scheduler for a pass (a device back to Good/Unknown may take jobs).
 * The health change reaches the event stream through the `devices` table trigger.
 * @throws AppError NOT_FOUND for an unknown device or worker
 */
export async function updateDevice(ctx: InstanceContext, hostname: string, o: UpdateDeviceOptions): Promise<void> {
  const d = await getDevice(ctx.db, hostname);
  let workerId: number | undefined;
  if (o.workerHostname) {
    const w = await findWorkerDetail(ctx.db, o.workerHostname);
    if (!w) throw new AppError("NOT_FOUND", `Worker '${o.workerHostname}' was not found.`);
    workerId = w.id;
  }
  await updateDeviceFields(ctx.db, d.id, {
    ...(o.health ? { health: o.health } : {}),
    ...(o.description != null ? { description: o.description } : {}),
    ...(workerId ? { workerId } : {}),
  });
  ctx.logger.info({ deviceHostname: hostname, ...o }, "device updated");
  ctx.scheduler?.trigger();
}

/** A device hostname: LAVA's slug-like names (`qemu-01`, `rpi4-02`). */
const DEVICE_HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export interface AddDeviceOptions {
  hostname: string;
  deviceType: string;
  worker: string;
  /** default Unknown, as LAVA: the first health check decides */
  health: TDeviceHealth | null;
  description: string | null;
}

/**
 * Creates a device (LAVA `devices.add`): Idle, health Unknown unless given, no dictionary (set one
 * with `devices dict set` before it can run jobs). The scheduler gets a pass.
 * @throws AppError NOT_FOUND `DeviceType 'x' was not found.` / `Worker 'x' was not found.` (LAVA's
 *   texts), INVALID_REQUEST for a bad hostname or `Bad request: device already exists?`
 */
export async function addDevice(ctx: InstanceContext, o: AddDeviceOptions): Promise<void> {
  if (!DEVICE_HOSTNAME.test(o.hostname))
    throw new AppError("INVALID_REQUEST", `Invalid hostname '${o.hostname}': letters, digits, '.', '_' and '-' only`);
  const typeId = await findDeviceTypeId(ctx.db, o.deviceType);
  if (typeId === null) throw new AppError("NOT_FOUND", `DeviceType '${o.deviceType}' was not found.`);
  const w = await findWorkerDetail(ctx.db, o.worker);
  if (!w) throw new AppError("NOT_FOUND", `Worker '${o.worker}' was not found.`);
  const r = await createDevice(ctx.db, {
    hostname: o.hostname,
    deviceTypeId: typeId,
    workerId: w.id,
    health: o.health ?? "Unknown",
    description: o.description,
  });
  if (r === "exists") throw new AppError("INVALID_REQUEST", "Bad request: device already exists?");
  ctx.logger.info({ deviceHostname: o.hostname, deviceType: o.deviceType, worker: o.worker }, "device added");
  ctx.scheduler?.trigger();
}

/**
 * Deletes a device (LAVA `devices.delete`); its finished jobs keep their results. Refused while a
 * job runs on it (LAVA would delete it under the job).
 * @throws AppError NOT_FOUND `Device 'x' was not found.`, CONFLICT while it runs a job
 */
export async function removeDevice(ctx: InstanceContext, hostname: string): Promise<void> {
  const r = await deleteDevice(ctx.db, hostname);
  if (r === "missing") throw new AppError("NOT_FOUND", `Device '${hostname}' was not found.`);
  if (r === "busy") throw new AppError("CONFLICT", `Device '${hostname}' is running a job; cancel it or wait before deleting the device.`);
  ctx.logger.info({ deviceHostname: hostname }, "device deleted");
}
