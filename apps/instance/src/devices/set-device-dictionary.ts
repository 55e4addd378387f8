import { parse } from "yaml";
import { ZDeviceDictionary, ZDeviceDictionaryOverrides, type TDeviceDictionaryResponse } from "@magma/protocol";
import {
  canAdminister,
  findDeviceDetail,
  listStoredDeviceTypeTemplates,
  setDeviceDictionaryKeys,
  type InstanceDb,
  type User,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { Logger } from "../logger.ts";
import { getDeviceDictionary } from "./get-device-dictionary.ts";
import { isJinja2, renderJinja2Dictionary } from "./jinja2-dictionary.ts";
import { renderDeviceDictionary } from "./render-device-dictionary.ts";

export interface SetDeviceDictionaryOptions {
  db: InstanceDb;
  logger: Logger;
  /** who asks; must be a superuser (LAVA: `change_device` permission) */
  user: User;
  hostname: string;
  /**
   * The device's own keys, replacing the stored ones (LAVA's `devices dict set` replaces the whole
   * dictionary): a mapping, YAML text of one, or a LAVA jinja2 dictionary (`{% extends 'qemu.jinja2' %}`
   * + `{% set … %}`, what lavacli sends from a LAVA lab). `hostname` and `device_type` may not be set here.
   */
  dictionary: Record<string, unknown> | string;
}

/**
 * Replaces a device's dictionary (LAVA's `scheduler.devices.set_dictionary`, REST `PUT
 * devices/<hostname>/dictionary/`), after checking both the device's keys and the rendered result
 * (device-type defaults deep-merged with them) against protocol `ZDeviceDictionary`, so a device
 * can never be handed to a worker with a dictionary it cannot use. A jinja2 dictionary is rendered
 * (sandboxed, see jinja2-dictionary.ts) and checked the same way, then stored as written. Jobs already scheduled keep the
 * dictionary rendered when their bundle was fetched; the next job gets the new one.
 * Callable from REST and XML-RPC alike.
 * @returns the stored keys, the type defaults and the rendered dictionary
 * @throws AppError FORBIDDEN (not a superuser), NOT_FOUND (unknown device), INVALID_REQUEST naming
 *   each bad key (`dictionary.power_on_command: …`), a YAML or jinja2 syntax error, a refused
 *   jinja2 construct or a missing device-type template
 */
export async function setDeviceDictionary({
  db,
  logger,
  user,
  hostname,
  dictionary,
}: SetDeviceDictionaryOptions): Promise<TDeviceDictionaryResponse> {
  if (!canAdminister(user))
    throw new AppError("FORBIDDEN", `Permission denied: user '${user.username}' cannot change device '${hostname}'`);
  let raw: unknown = dictionary;
  if (typeof dictionary === "string") {
    if (isJinja2(dictionary)) {
      // a LAVA jinja2 dictionary: stored as written once it renders to a valid dictionary
      const device = await findDeviceDetail(db, hostname);
      if (!device) throw new AppError("NOT_FOUND", `Device '${hostname}' not found`);
      renderJinja2Dictionary({
        source: dictionary,
        hostname,
        deviceType: device.deviceType,
        storedTemplates: await listStoredDeviceTypeTemplates(db),
      });
      await setDeviceDictionaryKeys(db, device.id, {}, dictionary);
      logger.info({ device: hostname, by: user.username, format: "jinja2" }, "device dictionary set");
      return getDeviceDictionary(db, hostname);
    }
    try {
      raw = parse(dictionary) ?? {};
    } catch (e) {
      throw new AppError(
        "INVALID_REQUEST",
        `Invalid device dictionary for '${hostname}': not valid YAML: ${(e as Error).message.split("\n")[0]}`,
      );
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new AppError("INVALID_REQUEST", `Invalid device dictionary for '${hostname}': expected a mapping`);
  const keys = raw as Record<string, unknown>;
  for (const k of ["hostname", "device_type"]) {
    if (k in keys)
      throw new AppError(
        "INVALID_REQUEST",
        `Invalid device dictionary for '${hostname}': dictionary.${k} is set by the instance and may not be given`,
      );
  }
  const describe = (issues: { path: PropertyKey[]; message: string }[]) =>
    issues.map((i) => `dictionary.${i.path.map(String).join(".")}: ${i.message}`).join("; ");
  const own = ZDeviceDictionaryOverrides.safeParse(keys);
  if (!own.success) throw new AppError("INVALID_REQUEST", `Invalid device dictionary for '${hostname}': ${describe(own.error.issues)}`);
  const device = await findDeviceDetail(db, hostname);
  if (!device) throw new AppError("NOT_FOUND", `Device '${hostname}' not found`);
  const rendered = renderDeviceDictionary({
    hostname,
    deviceType: device.deviceType,
    defaults: device.deviceTypeDictionary,
    overrides: keys,
  });
  const merged = ZDeviceDictionary.safeParse(parse(rendered));
  if (!merged.success)
    throw new AppError(
      "INVALID_REQUEST",
      `Invalid device dictionary for '${hostname}' once merged with device type '${device.deviceType}': ${describe(merged.error.issues)}`,
    );
  await setDeviceDictionaryKeys(db, device.id, keys);
  logger.info({ device: hostname, by: user.username, keys: Object.keys(keys) }, "device dictionary set");
  return getDeviceDictionary(db, hostname);
}
