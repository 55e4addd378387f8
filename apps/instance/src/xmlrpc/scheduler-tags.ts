import { addAlias, addTag, deleteAlias, deleteTag, listAliases, listTags, showAlias, showTag } from "../devices/tags-and-aliases.ts";
import { optStr, requireSuperuser, str, type RpcMethods } from "./rpc.ts";

/** `scheduler.tags.*` and `scheduler.aliases.*`. */
export const schedulerTagsMethods: RpcMethods = {
  "scheduler.tags.list": {
    help: "`scheduler.tags.list` ()\n\nTags: `{name, description}`.",
    handler: async (call) => listTags(call.ctx.db),
  },
  "scheduler.tags.show": {
    help: "`scheduler.tags.show` (`name`)\n\n`{name, description, devices}`.",
    handler: async (call) => showTag(call.ctx.db, str(call.params, 0, "name")),
  },
  "scheduler.tags.add": {
    help: "`scheduler.tags.add` (`name`, `description=None`)\n\n[superuser only] Create a device tag.",
    async handler(call) {
      requireSuperuser(call);
      await addTag(call.ctx.db, str(call.params, 0, "name"), optStr(call.params, 1, "description"));
      return null;
    },
  },
  "scheduler.tags.delete": {
    help: "`scheduler.tags.delete` (`name`)\n\n[superuser only] Remove a device tag.",
    async handler(call) {
      requireSuperuser(call);
      await deleteTag(call.ctx.db, str(call.params, 0, "name"));
      return null;
    },
  },
  "scheduler.aliases.list": { help: "`scheduler.aliases.list` ()\n\nAlias names.", handler: async (call) => listAliases(call.ctx.db) },
  "scheduler.aliases.show": {
    help: "`scheduler.aliases.show` (`name`)\n\n`{name, device_type}`.",
    handler: async (call) => showAlias(call.ctx.db, str(call.params, 0, "name")),
  },
  "scheduler.aliases.add": {
    help: "`scheduler.aliases.add` (`name`, `device_type_name`)\n\n[superuser only] Create a device-type alias.",
    async handler(call) {
      requireSuperuser(call);
      await addAlias(call.ctx.db, str(call.params, 0, "name"), str(call.params, 1, "device_type_name"));
      return null;
    },
  },
  "scheduler.aliases.delete": {
    help: "`scheduler.aliases.delete` (`name`)\n\n[superuser only] Remove a device-type alias.",
    async handler(call) {
      requireSuperuser(call);
      await deleteAlias(call.ctx.db, str(call.params, 0, "name"));
      return null;
    },
  },
};
