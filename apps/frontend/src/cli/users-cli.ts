/**
 * `npm run users -- <command>`: manage the frontend's accounts from a shell (the admin page does the
 * same in a browser). Uses the frontend's database (MAGMA_FRONTEND_DATABASE_URL).
 *
 *   add NAME [--superuser] [--password P] [--group G]...   create a user (no --password: token-only)
 *   passwd NAME --password P                                set a password
 *   superuser NAME on|off                                   grant or withdraw superuser
 *   delete NAME                                             delete a user (sessions and tokens die)
 *   list                                                    users and groups
 *   groups add G                                            create a group
 *   groups member G NAME                                    add a user to a group
 *   groups grant G LAB                                      let G's members submit to LAB
 *   tokens create NAME [--description D] [--value V]        create an API token, printed once
 *
 * Exit status 0 on success; 1 with a message naming the problem (`user "bob" does not exist`).
 */
import { parseArgs } from "node:util";
import { listGroups, listUsers } from "@magma/db/frontend";
import { db } from "../server/db.ts";
import { addGroup, addMember, addUser, createToken, grantLab, removeUser, setPassword, setSuperuser } from "../server/services/accounts.ts";

/** The CLI's usage text. */
export const USAGE = `usage: npm run users -- <command>
  add NAME [--superuser] [--password P] [--group G]...
  passwd NAME --password P
  superuser NAME on|off
  delete NAME
  list
  groups add G | groups member G NAME | groups grant G LAB
  tokens create NAME [--description D] [--value V]`;

/** Wrong command-line usage (the CLI prints the usage with it). */
export class UsageError extends Error {}

function need(args: string[], n: number, what: string): string[] {
  if (args.length < n) throw new UsageError(`missing ${what}`);
  return args;
}

/** Runs one CLI command; output lines go to `out`. @throws UsageError, AppError */
export async function runUsersCli(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      superuser: { type: "boolean", default: false },
      password: { type: "string" },
      group: { type: "string", multiple: true, default: [] },
      description: { type: "string", default: "" },
      value: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [cmd, ...rest] = positionals;
  if (values.help || !cmd) return out(USAGE);
  const d = db();
  switch (cmd) {
    case "add": {
      const [name] = need(rest, 1, "NAME");
      await addUser(d, { username: name!, password: values.password ?? null, superuser: values.superuser, groups: values.group });
      return out(`user ${name} created${values.superuser ? " (superuser)" : ""}${values.group.length ? ` in ${values.group.join(", ")}` : ""}${values.password ? "" : " without a password (API tokens only)"}`);
    }
    case "passwd": {
      const [name] = need(rest, 1, "NAME");
      if (!values.password) throw new UsageError("--password P is required");
      await setPassword(d, name!, values.password);
      return out(`password of ${name} set`);
    }
    case "superuser": {
      const [name, flag] = need(rest, 2, "NAME on|off");
      if (flag !== "on" && flag !== "off") throw new UsageError(`superuser: "${flag}" must be on or off`);
      await setSuperuser(d, name!, flag === "on");
      return out(`${name} is ${flag === "on" ? "now" : "no longer"} a superuser`);
    }
    case "delete": {
      const [name] = need(rest, 1, "NAME");
      await removeUser(d, name!);
      return out(`user ${name} deleted`);
    }
    case "list": {
      for (const u of await listUsers(d)) out(`user  ${u.username}${u.isSuperuser ? " [superuser]" : ""}  groups: ${u.groups.join(", ") || "-"}`);
      for (const g of await listGroups(d)) out(`group ${g.name}  members: ${g.members.join(", ") || "-"}  labs: ${g.labs.join(", ") || "-"}`);
      return;
    }
    case "groups": {
      const [sub, g, arg] = rest;
      if (sub === "add" && g) {
        await addGroup(d, g);
        return out(`group ${g} created`);
      }
      if (sub === "member" && g && arg) {
        await addMember(d, g, arg);
        return out(`${arg} added to ${g}`);
      }
      if (sub === "grant" && g && arg) {
        await grantLab(d, g, arg);
        return out(`members of ${g} may submit to ${arg}`);
      }
      throw new UsageError(`groups: expected "add G", "member G NAME" or "grant G LAB"`);
    }
    case "tokens": {
      const [sub, name] = rest;
      if (sub !== "create" || !name) throw new UsageError(`tokens: expected "create NAME"`);
      const { token } = await createToken(d, name, values.description, values.value);
      return out(token);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}
