#!/usr/bin/env -S node --import tsx
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { createInstanceDb, type InstanceDb } from "@magma/db/instance";
import { loadConfig } from "./env.ts";
import { parseLabFile } from "./seed/lab-file.ts";
import { seedLab } from "./seed/seed-lab.ts";
import { randomToken } from "./jobs/submit-job.ts";
import { storeApiToken } from "./auth/api-tokens.ts";

/**
 * Admin CLI of an instance (LAVA's `lava-server manage …` subset), on MAGMA_INSTANCE_DATABASE_URL:
 *   seed FILE                          idempotent upsert of a lab YAML file
 *   token add USER [--secret S] [--description D]   prints the secret (stored as a digest: shown once)
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
    console.log(`seeded ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}`);
  });

const token = program.command("token").description("API tokens");
token
  .command("add")
  .argument("<user>", "username (created if missing)")
  .option("--secret <secret>", "the secret (default: 32 random characters)")
  .option("--description <text>", "description (a notify callback `token:` may name it)", "")
  .action(async (username: string, opts: { secret?: string; description: string }) => {
    const secret = opts.secret ?? randomToken();
    if (secret.length < 16) throw new Error("--secret: a token secret needs at least 16 characters");
    await withDb(async (db) => {
      const user = await db.user.upsert({ where: { username }, create: { username }, update: {} });
      await storeApiToken(db, { userId: user.id, secret, description: opts.description, secretKey: loadConfig().secretKey });
    });
    console.log(secret);
  });

const devices = program.command("devices").description("devices");
devices
  .command("list")
  .description("list devices")
  .action(async () => {
    const rows = await withDb((db) => db.device.findMany({ orderBy: { hostname: "asc" }, include: { deviceType: true, worker: true } }));
    for (const d of rows) {
      console.log([d.hostname, d.deviceType.name, d.worker?.hostname ?? "-", d.state, d.health, d.tags.join(",") || "-"].join("\t"));
    }
  });

program.parseAsync(process.argv).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
