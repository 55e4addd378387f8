import {
  addGroup,
  addUser,
  addUserToGroup,
  getUser,
  listGroups,
  listUsers,
  removeGroup,
  removeUser,
  removeUserFromGroup,
  updateUser,
} from "../auth/account-admin.ts";
import { optBool, optStr, requirePermission, RpcFault, str, type RpcMethods } from "./rpc.ts";

const optBoolOrNull = (p: unknown[], i: number, name: string) => (p[i] === undefined || p[i] === null ? null : optBool(p, i, name, false));

const NO_PERMS = "Magma has no per-object permissions: superusers administer the lab, every authenticated user submits jobs";

/**
 * `auth.users.*` and `auth.groups.*` (LAVA 2023.10+, lava_server/api): users and groups, every call
 * needs a superuser (LAVA's auth.* permissions). The `perms` sub-namespaces list no permissions and
 * refuse changes (fault 400 saying why).
 */
export const authMethods: RpcMethods = {
  "auth.users.add": {
    help: "`auth.users.add` (`username`, `first_name=None`, `last_name=None`, `email=None`, `is_active=True`, `is_staff=False`, `is_superuser=False`, `ldap=False`)\n\n[superuser only] Create a user. Magma stores no names or e-mail: giving one is a fault 400.",
    async handler(call) {
      requirePermission(call, "auth.add_user");
      const p = call.params;
      await addUser(call.ctx, str(p, 0, "username"), optBool(p, 6, "is_superuser", false), {
        firstName: optStr(p, 1, "first_name"),
        lastName: optStr(p, 2, "last_name"),
        email: optStr(p, 3, "email"),
        isActive: optBoolOrNull(p, 4, "is_active"),
        isStaff: optBoolOrNull(p, 5, "is_staff"),
        ldap: optBoolOrNull(p, 7, "ldap"),
      });
      return null;
    },
  },
  "auth.users.delete": {
    help: "`auth.users.delete` (`username`)\n\n[superuser only] Delete a user with its tokens (refused for a user who submitted jobs).",
    async handler(call) {
      requirePermission(call, "auth.change_user");
      await removeUser(call.ctx, str(call.params, 0, "username"));
      return null;
    },
  },
  "auth.users.list": {
    help: "`auth.users.list` ()\n\n[superuser only] Users: username, last_name, first_name, is_superuser, is_staff, is_active.",
    async handler(call) {
      requirePermission(call, "auth.view_user");
      return (await listUsers(call.ctx)).map((u) => ({
        username: u.username,
        last_name: "",
        first_name: "",
        is_superuser: u.isSuperuser,
        is_staff: false,
        is_active: true,
      }));
    },
  },
  "auth.users.show": {
    help: "`auth.users.show` (`username`)\n\n[superuser only] date_joined, email, first_name, groups, permissions, id, is_active, is_staff, is_superuser, last_login, last_name, username.",
    async handler(call) {
      requirePermission(call, "auth.view_user");
      const u = await getUser(call.ctx, str(call.params, 0, "username"));
      return {
        date_joined: u.createdAt,
        email: "",
        first_name: "",
        groups: u.groups,
        permissions: [],
        id: u.id,
        is_active: true,
        is_staff: false,
        is_superuser: u.isSuperuser,
        last_login: null,
        last_name: "",
        username: u.username,
      };
    },
  },
  "auth.users.update": {
    help: "`auth.users.update` (`username`, `first_name=None`, `last_name=None`, `email=None`, `is_active=None`, `is_staff=None`, `is_superuser=None`)\n\n[superuser only] Only is_superuser can change in Magma.",
    async handler(call) {
      requirePermission(call, "auth.change_user");
      const p = call.params;
      await updateUser(call.ctx, str(p, 0, "username"), optBoolOrNull(p, 6, "is_superuser"), {
        firstName: optStr(p, 1, "first_name"),
        lastName: optStr(p, 2, "last_name"),
        email: optStr(p, 3, "email"),
        isActive: optBoolOrNull(p, 4, "is_active"),
        isStaff: optBoolOrNull(p, 5, "is_staff"),
      });
      return null;
    },
  },
  "auth.users.groups.add": {
    help: "`auth.users.groups.add` (`username`, `group`)\n\n[superuser only] Put the user in the group (created when missing).",
    async handler(call) {
      requirePermission(call, "auth.change_user");
      await addUserToGroup(call.ctx, str(call.params, 0, "username"), str(call.params, 1, "group"));
      return null;
    },
  },
  "auth.users.groups.list": {
    help: "`auth.users.groups.list` (`username`)\n\n[superuser only] The user's group names.",
    async handler(call) {
      requirePermission(call, "auth.view_user");
      return (await getUser(call.ctx, str(call.params, 0, "username"))).groups;
    },
  },
  "auth.users.groups.delete": {
    help: "`auth.users.groups.delete` (`username`, `group`)\n\n[superuser only] Take the user out of the group.",
    async handler(call) {
      requirePermission(call, "auth.change_user");
      await removeUserFromGroup(call.ctx, str(call.params, 0, "username"), str(call.params, 1, "group"));
      return null;
    },
  },
  "auth.users.perms.list": {
    help: "`auth.users.perms.list` (`username`)\n\n[superuser only] Always empty: " + NO_PERMS + ".",
    async handler(call) {
      requirePermission(call, "auth.view_user");
      await getUser(call.ctx, str(call.params, 0, "username"));
      return [];
    },
  },
  "auth.groups.add": {
    help: "`auth.groups.add` (`name`)\n\n[superuser only] Create a group.",
    async handler(call) {
      requirePermission(call, "auth.add_group");
      await addGroup(call.ctx, str(call.params, 0, "name"));
      return null;
    },
  },
  "auth.groups.delete": {
    help: "`auth.groups.delete` (`name`)\n\n[superuser only] Delete a group (its memberships go too).",
    async handler(call) {
      requirePermission(call, "auth.change_group");
      await removeGroup(call.ctx, str(call.params, 0, "name"));
      return null;
    },
  },
  "auth.groups.list": {
    help: "`auth.groups.list` ()\n\n[superuser only] Group names.",
    async handler(call) {
      requirePermission(call, "auth.view_group");
      return (await listGroups(call.ctx)).map((g) => g.name);
    },
  },
  "auth.groups.show": {
    help: "`auth.groups.show` (`name`)\n\n[superuser only] id, name, permissions (always empty), users.",
    async handler(call) {
      requirePermission(call, "auth.view_group");
      const [g] = await listGroups(call.ctx, str(call.params, 0, "name"));
      return { id: g!.id, name: g!.name, permissions: [], users: g!.users };
    },
  },
  "auth.groups.perms.list": {
    help: "`auth.groups.perms.list` (`name`)\n\n[superuser only] Always empty: " + NO_PERMS + ".",
    async handler(call) {
      requirePermission(call, "auth.view_group");
      await listGroups(call.ctx, str(call.params, 0, "name"));
      return [];
    },
  },
};
for (const ns of ["auth.users.perms", "auth.groups.perms"])
  for (const verb of ["add", "delete"])
    authMethods[`${ns}.${verb}`] = {
      help: `\`${ns}.${verb}\` (\`name\`, \`app\`, \`model\`, \`codename\`)\n\n[superuser only] Refused (fault 400): ${NO_PERMS}.`,
      async handler(call) {
        requirePermission(call, ns.startsWith("auth.users") ? "auth.change_user" : "auth.change_group");
        throw new RpcFault(400, `${ns}.${verb}: ${NO_PERMS}`);
      },
    };
