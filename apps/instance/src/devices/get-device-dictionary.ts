import type { TDeviceDictionaryResponse } from "@magma/protocol";
import { findDeviceDetail, type InstanceDb } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { renderDeviceConfig } from "./render-device-dictionary.ts";

/**
 * A device's dictionary as stored and as the worker receives it (LAVA's `devices dict get` with and
 * without `--render`): its own keys, its device type's defaults, and the rendered YAML (type
 * defaults deep-merged with the device's keys, plus hostname and device_type; or, for a device with a
 * LAVA jinja2 dictionary, that text as `jinja2` and its rendering).
 * @throws AppError NOT_FOUND `Device '<hostname>' not found`
 */
export async function getDeviceDictionary(db: InstanceDb, hostname: string): Promise<TDeviceDictionaryResponse> {
  const device = await findDeviceDetail(db, hostname);
  if (!device) throw new AppError("NOT_FOUND", `Device '${hostname}' not found`);
  const dictionary = device.dictionary;
  const defaults = device.deviceTypeDictionary;
  return {
    hostname,
    device_type: device.deviceType,
    dictionary,
    device_type_defaults: defaults,
    ...(device.dictionaryJinja2 !== null ? { jinja2: device.dictionaryJinja2 } : {}),
    rendered: await renderDeviceConfig(db, device),
  };
}
