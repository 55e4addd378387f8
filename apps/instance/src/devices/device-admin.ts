import { parse as parseYaml, stringify } from "yaml";
import { ZDeviceDictionaryOverrides } from "@magma/protocol";
import type { TDeviceHealth } from "@magma/protocol";
import {
  ensureTag,
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
import { renderDeviceDictionary } from "./render-device-dictionary.ts";

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
 * The device dictionary as text. Magma's dictionary is YAML, not LAVA's jinja2: unrendered = the
 * device's own keys; rendered = the device-type defaults deep-merged with them plus hostname and
 * device_type (exactly what the worker receives).
 */
export async function getDeviceDictionaryText(db: InstanceDb, hostname: string, render: boolean): Promise<string> {
  const d = await getDevice(db, hostname);
  if (render)
    return renderDeviceDictionary({
      hostname: d.hostname,
      deviceType: d.deviceType,
      defaults: d.deviceTypeDictionary,
      overrides: d.dictionary,
    });
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
