import { stringify } from "yaml";

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
