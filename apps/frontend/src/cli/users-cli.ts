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
 *   seed FILE                                               apply a YAML account file (idempotent)
 *
 * Exit status 0 on success; 1 with a message naming the problem (`user "bob" does not exist`).
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { z } from "zod";
import { listGroups, listUsers, type FrontendDb } from "@magma/db/frontend";
import { env } from "../env.ts";
import { AppError } from "../server/app-error.ts";
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
  tokens create NAME [--description D] [--value V]
  seed FILE   (YAML: groups: [{name, labs}], users: [{username, password, superuser, groups, tokens: [{value, description}]}])`;

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
      return out(
        `user ${name} created${values.superuser ? " (superuser)" : ""}${values.group.length ? ` in ${values.group.join(", ")}` : ""}${values.password ? "" : " without a password (API tokens only)"}`,
      );
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
      for (const u of await listUsers(d))
        out(`user  ${u.username}${u.isSuperuser ? " [superuser]" : ""}  groups: ${u.groups.join(", ") || "-"}`);
      for (const g of await listGroups(d))
        out(`group ${g.name}  members: ${g.members.join(", ") || "-"}  labs: ${g.labs.join(", ") || "-"}`);
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
    case "seed": {
      const [file] = need(rest, 1, "FILE");
      return seedAccounts(d, file!, out);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

/** An account file for `seed` (the demo and test stacks write one). */
export const ZAccountSeed = z.strictObject({
  groups: z.array(z.strictObject({ name: z.string(), labs: z.array(z.string()).default([]) })).default([]),
  users: z
    .array(
      z.strictObject({
        username: z.string(),
        password: z.string().optional(),
        superuser: z.boolean().default(false),
        groups: z.array(z.string()).default([]),
        tokens: z.array(z.strictObject({ value: z.string(), description: z.string().default("") })).default([]),
      }),
    )
    .default([]),
});

/**
 * Applies an account file, idempotently (a second run changes nothing but passwords and flags):
 * syncs the labs of MAGMA_FRONTEND_CONFIG first (so grants can name them before the frontend ever
 * started), creates missing groups, grants their labs, creates or updates users (password,
 * superuser), adds memberships and stores tokens not stored yet.
 * @throws AppError naming the file and the bad entry, or the failing account step
 */
async function seedAccounts(d: FrontendDb, file: string, out: (line: string) => void): Promise<void> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new AppError("INVALID_REQUEST", { message: `${file}: ${(e as Error).message}` });
  }
  const parsed = ZAccountSeed.safeParse(raw ?? {});
  if (!parsed.success)
    throw new AppError("INVALID_REQUEST", {
      message: `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    });
  const configPath = env().MAGMA_FRONTEND_CONFIG;
  if (configPath) {
    const { syncInstances } = await import("../server/services/sync-instances.ts");
    await syncInstances({ db: d, configPath });
  }
  const existingGroups = new Set((await listGroups(d)).map((g) => g.name));
  for (const g of parsed.data.groups) {
    if (!existingGroups.has(g.name)) await addGroup(d, g.name);
    for (const lab of g.labs) await grantLab(d, g.name, lab);
  }
  const existingUsers = new Set((await listUsers(d)).map((u) => u.username));
  for (const u of parsed.data.users) {
    if (!existingUsers.has(u.username)) await addUser(d, { username: u.username, password: u.password ?? null, superuser: u.superuser });
    else {
      if (u.password) await setPassword(d, u.username, u.password);
      await setSuperuser(d, u.username, u.superuser);
    }
    for (const g of u.groups) await addMember(d, g, u.username);
    for (const t of u.tokens) {
      try {
        await createToken(d, u.username, t.description, t.value);
      } catch (e) {
        if (!(e instanceof AppError && e.code === "CONFLICT")) throw e;
      }
    }
  }
  out(`seeded ${parsed.data.groups.length} group(s), ${parsed.data.users.length} user(s) from ${file}`);
}
