import {
  addDeviceType,
  getDeviceType,
  getDeviceTypeTemplate,
  getHealthCheck,
  listDeviceTypesWithDevices,
  setDeviceTypeTemplate,
  setHealthCheck,
  updateDeviceType,
} from "../devices/device-type-admin.ts";
import { optBool, optInt, optStr, requirePermission, requireSuperuser, RpcFault, str, type RpcMethods } from "./rpc.ts";

/**
 * `scheduler.device_types.*`. The template is the type's own jinja2 device-type template (LAVA's
 * form; device dictionaries `{% extends '<type>.jinja2' %}`), or, when none was set, Magma's YAML
 * dictionary defaults of the type; `set_template` takes either.
 */
export const schedulerDeviceTypesMethods: RpcMethods = {
  "scheduler.device_types.add": {
    help: '`scheduler.device_types.add` (`name`, `description`, `display`, `owners_only`, `health_frequency`, `health_denominator`)\n\n[superuser only] Add a device type (health_denominator "hours" or "jobs").',
    async handler(call) {
      requirePermission(call, "lava_scheduler_app.change_devicetype");
      const p = call.params;
      const den = optStr(p, 5, "health_denominator") ?? "hours";
      if (den !== "hours" && den !== "jobs") throw new RpcFault(400, "Bad request: invalid health_denominator.");
      if (optBool(p, 3, "owners_only", false)) throw new RpcFault(400, "Invalid argument 'owners_only': Magma has no device owners");
      await addDeviceType(call.ctx, {
        name: str(p, 0, "name"),
        description: optStr(p, 1, "description"),
        display: optBool(p, 2, "display", true),
        healthFrequency: optInt(p, 4, "health_frequency", 24) ?? 24,
        healthDenominator: den,
      });
      return null;
    },
  },
  "scheduler.device_types.list": {
    help: "`scheduler.device_types.list` (`show_all=False`)\n\nDevice types: name, devices (non-retired count), installed, template.",
    async handler(call) {
      const rows = await listDeviceTypesWithDevices(call.ctx.db, optBool(call.params, 0, "show_all", false));
      return rows.map((t) => ({
        name: t.name,
        devices: t.devices.filter((d) => d.health !== "Retired").length,
        installed: true,
        template: true,
      }));
    },
  },
  "scheduler.device_types.show": {
    help: "`scheduler.device_types.show` (`name`)\n\nname, description, display, health_disabled, health_denominator, health_frequency, aliases, devices, default_template.",
    async handler(call) {
      const t = await getDeviceType(call.ctx.db, str(call.params, 0, "name"));
      return {
        name: t.name,
        description: t.description,
        display: t.display,
        health_disabled: t.disableHealthCheck,
        health_denominator: t.healthDenominator,
        health_frequency: t.healthFrequency,
        aliases: t.aliases,
        devices: t.devices.filter((d) => d.health !== "Retired").map((d) => d.hostname),
        default_template: true,
      };
    },
  },
  "scheduler.device_types.get_template": {
    help: "`scheduler.device_types.get_template` (`name`)\n\nThe type's jinja2 template, or its YAML dictionary defaults when it has none (`.jinja2` suffix accepted).",
    handler: async (call) => getDeviceTypeTemplate(call.ctx.db, str(call.params, 0, "name")),
  },
  "scheduler.device_types.set_template": {
    help: "`scheduler.device_types.set_template` (`name`, `config`)\n\n[superuser only] Set the type's jinja2 template (checked by the sandbox and by rendering),\nor replace its dictionary defaults with a YAML mapping.",
    async handler(call) {
      requireSuperuser(call);
      await setDeviceTypeTemplate(call.ctx, str(call.params, 0, "name"), str(call.params, 1, "config"));
      return null;
    },
  },
  "scheduler.device_types.get_health_check": {
    help: "`scheduler.device_types.get_health_check` (`name`)\n\nThe type's health-check job definition (`.yaml` suffix accepted).",
    handler: async (call) => getHealthCheck(call.ctx.db, str(call.params, 0, "name")),
  },
  "scheduler.device_types.set_health_check": {
    help: "`scheduler.device_types.set_health_check` (`name`, `config`)\n\n[superuser only] Set the health-check definition; it must validate as a job (fault 400 otherwise).",
    async handler(call) {
      requireSuperuser(call);
      await setHealthCheck(call.ctx, str(call.params, 0, "name"), str(call.params, 1, "config"));
      return null;
    },
  },
  "scheduler.device_types.update": {
    help: "`scheduler.device_types.update` (`name`, `description=None`, `display=None`, `owners_only=None`, `health_frequency=None`, `health_denominator=None`, `health_disabled=None`)\n\n[superuser only] Update the non-None fields.",
    async handler(call) {
      requireSuperuser(call);
      const p = call.params;
      const den = optStr(p, 5, "health_denominator");
      if (den !== null && den !== "hours" && den !== "jobs")
        throw new RpcFault(400, `Invalid health_denominator '${den}': expected hours or jobs`);
      await updateDeviceType(call.ctx, str(p, 0, "name"), {
        description: optStr(p, 1, "description"),
        display: p[2] === undefined || p[2] === null ? null : optBool(p, 2, "display", true),
        healthFrequency: optInt(p, 4, "health_frequency", null),
        healthDenominator: den,
        healthDisabled: p[6] === undefined || p[6] === null ? null : optBool(p, 6, "health_disabled", false),
      });
      return null;
    },
  },
  "scheduler.device_types.aliases.list": {
    help: "`scheduler.device_types.aliases.list` (`name`)\n\nThe type's alias names.",
    async handler(call) {
      return (await getDeviceType(call.ctx.db, str(call.params, 0, "name"))).aliases;
    },
  },
};
