#!/usr/bin/env -S node --import tsx
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { createInstanceDb, type InstanceDb } from "@magma/db/instance";
import { loadConfig } from "./env.ts";
import { parseLabFile } from "./seed/lab-file.ts";
import { seedLab } from "./seed/seed-lab.ts";
import { randomToken } from "./jobs/submit-job.ts";
import { addApiToken, addGroup, addUser, listDevicesForAdmin, listUsers, removeGroupMember } from "./auth/accounts.ts";

/**
 * Admin CLI of an instance (LAVA's `lava-server manage …` subset), on MAGMA_INSTANCE_DATABASE_URL.
 * It parses arguments, calls one service (seed/seed-lab.ts, auth/accounts.ts) and prints:
 *   seed FILE                          idempotent upsert of a lab YAML file
 *   token add USER [--secret S] [--description D] [--federation]   prints the secret (stored as a digest: shown once)
 *   user add NAME [--superuser] [--group G…] · user list
 *   group add GROUP [USER…] · group remove-member GROUP USER
 *   devices list                       hostname, type, worker, state, health, tags
 */
async function withDb<T>(fn: (db: InstanceDb) => Promise<T>): Promise<T> {
  const db = createInstanceDb(loadConfig().databaseUrl, 2);
  try {
    return await fn(db);
  } finally {
    await db.$disconnect();
  }
}

const program = new Command("magma-instance").description("Magma instance administration");

program
  .command("seed")
  .argument("<file>", "lab YAML file: users, workers, device_types, devices")
  .description("create or update users, tokens, workers, device types and devices (idempotent)")
  .action(async (file: string) => {
    const lab = parseLabFile(await readFile(file, "utf8"));
    const counts = await withDb((db) => seedLab(db, lab, { secretKey: loadConfig().secretKey }));
    console.log(
      `seeded ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}`,
    );
  });

const token = program.command("token").description("API tokens");
token
  .command("add")
  .argument("<user>", "username (created if missing)")
  .option("--secret <secret>", "the secret (default: 32 random characters)")
  .option("--description <text>", "description (a notify callback `token:` may name it)", "")
  .option("--federation", "the token may act for other users (X-Magma-Submitter): the frontend's lab token", false)
  .action(async (username: string, opts: { secret?: string; description: string; federation: boolean }) => {
    const secret = opts.secret ?? randomToken();
    await withDb((db) =>
      addApiToken(db, username, { secret, description: opts.description, federation: opts.federation, secretKey: loadConfig().secretKey }),
    );
    console.log(secret);
  });

const user = program.command("user").description("users");
user
  .command("add")
  .argument("<name>", "username")
  .option("--superuser", "make the user a superuser", false)
  .option("--group <group...>", "groups to add the user to (created when missing)")
  .description("create a user (or update it), idempotently; a new user is a plain user unless --superuser")
  .action(async (name: string, opts: { superuser: boolean; group?: string[] }) => {
    await withDb((db) => addUser(db, name, { superuser: opts.superuser, groups: opts.group ?? [] }));
    console.log(name);
  });
user
  .command("list")
  .description("list users: name, superuser, groups")
  .action(async () => {
    const rows = await withDb((db) => listUsers(db));
    for (const u of rows) console.log([u.username, u.isSuperuser ? "superuser" : "-", u.groups.join(",") || "-"].join("\t"));
  });

const group = program
  .command("group")
  .description("groups (LAVA: a job with visibility {group: [..]} is visible to members of every listed group)");
group
  .command("add")
  .argument("<group>", "group name")
  .argument("[users...]", "users to add (must exist)")
  .description("create a group and add users to it (idempotent)")
  .action(async (name: string, users: string[]) => {
    await withDb((db) => addGroup(db, name, users));
  });
group
  .command("remove-member")
  .argument("<group>", "group name")
  .argument("<user>", "username")
  .description("remove a user from a group")
  .action(async (name: string, username: string) => {
    await withDb((db) => removeGroupMember(db, name, username));
  });

const devices = program.command("devices").description("devices");
devices
  .command("list")
  .description("list devices")
  .action(async () => {
    const rows = await withDb((db) => listDevicesForAdmin(db));
    for (const d of rows) {
      console.log([d.hostname, d.deviceType, d.worker ?? "-", d.state, d.health, d.tags.join(",") || "-"].join("\t"));
    }
  });

program.parseAsync(process.argv).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
