import {
  addDevice,
  addDeviceTag,
  deleteDeviceTag,
  getDevice,
  getDeviceDictionaryText,
  listDevicesWithNames,
  removeDevice,
  updateDevice,
} from "../devices/device-admin.ts";
import { setDeviceDictionary } from "../devices/set-device-dictionary.ts";
import { optBool, optStr, requirePermission, requireSuperuser, RpcFault, str, type RpcMethods } from "./rpc.ts";

const DEVICE_HEALTHS = ["Good", "Unknown", "Looping", "Bad", "Maintenance", "Retired"] as const;

/** LAVA's `devices.add` health check: an unknown name is `Invalid health` (fault 400). */
function healthArgLava(v: string): (typeof DEVICE_HEALTHS)[number] {
  const hit = DEVICE_HEALTHS.find((a) => a.toUpperCase() === v.toUpperCase());
  if (!hit) throw new RpcFault(400, "Invalid health");
  return hit;
}

/** `"MAINTENANCE"` → `Maintenance` (LAVA takes the upper-case names). @throws RpcFault 400 */
export function healthArg<T extends string>(v: string | null, allowed: readonly T[]): T | null {
  if (v === null) return null;
  const hit = allowed.find((a) => a.toUpperCase() === v.toUpperCase());
  if (!hit) throw new RpcFault(400, `Invalid health '${v}': expected one of ${allowed.map((a) => a.toUpperCase()).join(", ")}`);
  return hit;
}

/**
 * `scheduler.devices.*`. The dictionary is LAVA's jinja2 file (`{% extends 'qemu.jinja2' %}` +
 * `{% set … %}`, rendered by sandboxed nunjucks) or Magma's YAML mapping: `get_dictionary` answers
 * the stored text, or with render=True the rendered YAML (as `Binary`, like LAVA); `set_dictionary`
 * takes either and refuses one that does not render to a valid dictionary (fault 400 naming why).
 */
export const schedulerDevicesMethods: RpcMethods = {
  "scheduler.devices.add": {
    help: "`scheduler.devices.add` (`hostname`, `type_name`, `worker_hostname`, `user_name=None`, `group_name=None`, `public=True`, `health=None`, `description=None`)\n\n[superuser only] Add a device (health UNKNOWN unless given). user_name/group_name owners are not supported (fault 400).",
    async handler(call) {
      requirePermission(call, "lava_scheduler_app.change_device");
      const p = call.params;
      if (optStr(p, 3, "user_name") !== null || optStr(p, 4, "group_name") !== null)
        throw new RpcFault(400, "Invalid argument 'user_name'/'group_name': Magma has no device owners (devices are visible to all)");
      const health = optStr(p, 6, "health");
      await addDevice(call.ctx, {
        hostname: str(p, 0, "hostname"),
        deviceType: str(p, 1, "type_name"),
        worker: str(p, 2, "worker_hostname"),
        health: health === null ? null : healthArgLava(health),
        description: optStr(p, 7, "description"),
      });
      return null;
    },
  },
  "scheduler.devices.delete": {
    help: "`scheduler.devices.delete` (`hostname`)\n\n[superuser only] Remove a device (refused while it runs a job; its finished jobs stay).",
    async handler(call) {
      requirePermission(call, "lava_scheduler_app.delete_device");
      await removeDevice(call.ctx, str(call.params, 0, "hostname"));
      return null;
    },
  },
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
        has_device_dict: d.dictionaryJinja2 !== null || Object.keys(d.dictionary).length > 0,
        worker: d.worker,
        current_job: d.currentJobId,
        tags: d.tags,
      };
    },
  },
  "scheduler.devices.get_dictionary": {
    help: "`scheduler.devices.get_dictionary` (`hostname`, `render=False`, `context=None`)\n\nThe device's dictionary as stored (LAVA jinja2 text, or YAML keys), or with render=True the\nrendered dictionary the worker gets (YAML).",
    async handler(call) {
      const text = await getDeviceDictionaryText(call.ctx.db, str(call.params, 0, "hostname"), optBool(call.params, 1, "render", false));
      return Buffer.from(text, "utf8");
    },
  },
  "scheduler.devices.set_dictionary": {
    help: "`scheduler.devices.set_dictionary` (`hostname`, `dictionary`)\n\n[superuser only] Replace the device's dictionary: LAVA's jinja2 form ({% extends 'qemu.jinja2' %}\n+ {% set ... %}) or a YAML mapping; it must render to a valid dictionary. Returns True.",
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
