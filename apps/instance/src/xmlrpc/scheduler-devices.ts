import {
  addDeviceTag,
  deleteDeviceTag,
  getDevice,
  getDeviceDictionaryText,
  listDevicesWithNames,
  updateDevice,
} from "../devices/device-admin.ts";
import { setDeviceDictionary } from "../devices/set-device-dictionary.ts";
import { optBool, optStr, requireSuperuser, RpcFault, str, type RpcMethods } from "./rpc.ts";

const DEVICE_HEALTHS = ["Good", "Unknown", "Looping", "Bad", "Maintenance", "Retired"] as const;

/** `"MAINTENANCE"` → `Maintenance` (LAVA takes the upper-case names). @throws RpcFault 400 */
export function healthArg<T extends string>(v: string | null, allowed: readonly T[]): T | null {
  if (v === null) return null;
  const hit = allowed.find((a) => a.toUpperCase() === v.toUpperCase());
  if (!hit) throw new RpcFault(400, `Invalid health '${v}': expected one of ${allowed.map((a) => a.toUpperCase()).join(", ")}`);
  return hit;
}

/**
 * `scheduler.devices.*`. The dictionary is Magma's YAML dictionary, not LAVA's jinja2 file:
 * `get_dictionary` answers YAML (as `Binary`, like LAVA), `set_dictionary` takes a YAML mapping and
 * refuses a jinja2 template with fault 400 saying so.
 */
export const schedulerDevicesMethods: RpcMethods = {
  "scheduler.devices.list": {
    help: "`scheduler.devices.list` (`show_all=False`, `offline_info=False`)\n\nDevices: hostname, type, health, state, current_job, pipeline (Retired only with show_all).",
    async handler(call) {
      const rows = await listDevicesWithNames(call.ctx.db, optBool(call.params, 0, "show_all", false));
      return rows.map((d) => ({
        hostname: d.hostname,
        type: d.deviceType,
        health: d.health,
        state: d.state,
        current_job: d.currentJobId,
        pipeline: true,
      }));
    },
  },
  "scheduler.devices.show": {
    help: "`scheduler.devices.show` (`hostname`)\n\nDevice details: hostname, device_type, health, state, health_job, description, pipeline,\nhas_device_dict, worker, current_job, tags.",
    async handler(call) {
      const d = await getDevice(call.ctx.db, str(call.params, 0, "hostname"));
      return {
        hostname: d.hostname,
        device_type: d.deviceType,
        health: d.health,
        state: d.state,
        health_job: d.deviceTypeHasHealthCheck && !d.deviceTypeHealthCheckDisabled,
        description: d.description,
        pipeline: true,
        has_device_dict: Object.keys(d.dictionary).length > 0,
        worker: d.worker,
        current_job: d.currentJobId,
        tags: d.tags,
      };
    },
  },
  "scheduler.devices.get_dictionary": {
    help: "`scheduler.devices.get_dictionary` (`hostname`, `render=False`, `context=None`)\n\nThe device's own dictionary keys as YAML, or with render=True the full dictionary the worker gets.",
    async handler(call) {
      const text = await getDeviceDictionaryText(call.ctx.db, str(call.params, 0, "hostname"), optBool(call.params, 1, "render", false));
      return Buffer.from(text, "utf8");
    },
  },
  "scheduler.devices.set_dictionary": {
    help: "`scheduler.devices.set_dictionary` (`hostname`, `dictionary`)\n\n[superuser only] Replace the device's dictionary keys with a YAML mapping. Returns True.",
    async handler(call) {
      const user = requireSuperuser(call);
      await setDeviceDictionary({
        db: call.ctx.db,
        logger: call.ctx.logger,
        user,
        hostname: str(call.params, 0, "hostname"),
        dictionary: str(call.params, 1, "dictionary"),
      });
      return true;
    },
  },
  "scheduler.devices.update": {
    help: "`scheduler.devices.update` (`hostname`, `worker_hostname=None`, `user_name=None`, `group_name=None`, `public=True`, `health=None`, `description=None`)\n\n[superuser only] Update the non-None fields.",
    async handler(call) {
      requireSuperuser(call);
      const p = call.params;
      await updateDevice(call.ctx, str(p, 0, "hostname"), {
        workerHostname: optStr(p, 1, "worker_hostname"),
        health: healthArg(optStr(p, 5, "health"), DEVICE_HEALTHS),
        description: optStr(p, 6, "description"),
      });
      return null;
    },
  },
  "scheduler.devices.tags.list": {
    help: "`scheduler.devices.tags.list` (`hostname`)\n\nThe device's tag names.",
    async handler(call) {
      return (await getDevice(call.ctx.db, str(call.params, 0, "hostname"))).tags;
    },
  },
  "scheduler.devices.tags.add": {
    help: "`scheduler.devices.tags.add` (`hostname`, `name`)\n\n[superuser only] Add a tag to the device (the tag is created when new).",
    async handler(call) {
      requireSuperuser(call);
      await addDeviceTag(call.ctx, str(call.params, 0, "hostname"), str(call.params, 1, "name"));
      return null;
    },
  },
  "scheduler.devices.tags.delete": {
    help: "`scheduler.devices.tags.delete` (`hostname`, `name`)\n\n[superuser only] Remove a tag from the device.",
    async handler(call) {
      requireSuperuser(call);
      await deleteDeviceTag(call.ctx, str(call.params, 0, "hostname"), str(call.params, 1, "name"));
      return null;
    },
  },
};
