import { stringify } from "yaml";
import { listStoredDeviceTypeTemplates, type InstanceDb, type TDeviceDetail } from "@magma/db/instance";
import { renderJinja2Dictionary } from "./jinja2-dictionary.ts";

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** Deep merge: mappings merge key by key, anything else in `over` replaces `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/**
 * Renders a device dictionary for the worker, Magma's stand-in for LAVA's jinja2 device-type
 * template: the device type's defaults deep-merged with the device's overrides, plus `hostname` and
 * `device_type` (protocol ZDeviceDictionary).
 * @returns the YAML text of the job bundle's `device` string
 */
export function renderDeviceDictionary(opts: { hostname: string; deviceType: string; defaults: unknown; overrides: unknown }): string {
  const merged = deepMerge(
    isPlainObject(opts.defaults) ? opts.defaults : {},
    isPlainObject(opts.overrides) ? opts.overrides : {},
  ) as Record<string, unknown>;
  return stringify({ ...merged, hostname: opts.hostname, device_type: opts.deviceType }, { lineWidth: 0 });
}

/**
 * The dictionary the worker receives for `device`: its LAVA jinja2 dictionary rendered (sandboxed
 * nunjucks over the device types' stored templates and the shipped ones) when it has one, else the
 * YAML path of {@link renderDeviceDictionary}.
 * @returns YAML text
 * @throws AppError INVALID_REQUEST when a stored jinja2 dictionary no longer renders (e.g. its
 *   device-type template changed), naming the device and the problem
 */
export async function renderDeviceConfig(db: InstanceDb, device: TDeviceDetail): Promise<string> {
  if (device.dictionaryJinja2 !== null)
    return renderJinja2Dictionary({
      source: device.dictionaryJinja2,
      hostname: device.hostname,
      deviceType: device.deviceType,
      storedTemplates: await listStoredDeviceTypeTemplates(db),
    });
  return renderDeviceDictionary({
    hostname: device.hostname,
    deviceType: device.deviceType,
    defaults: device.deviceTypeDictionary,
    overrides: device.dictionary,
  });
}
