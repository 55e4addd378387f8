import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A throw-away database with every migration of one schema applied. */
export interface TestDatabase {
  /** Database name, `magma_test_<schema>_<random>`. */
  name: string;
  /** Connection URL of the new database. */
  url: string;
  /** Drops the database (WITH FORCE: open connections are closed). */
  drop(): Promise<void>;
}

/** URL of the PostgreSQL server used by tests: MAGMA_TEST_DATABASE_URL, else postgres@127.0.0.1:5432. */
export function testServerUrl(): string {
  return process.env["MAGMA_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

/** Runs `sql` on the server's maintenance database (`serverUrl`) over a connection of its own. */
async function onServer(serverUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database `magma_test_<schema>_<random>` on the server; returns its name and URL. */
async function createEmptyDatabase(schema: string, serverUrl: string): Promise<{ name: string; url: string }> {
  const name = `magma_test_${schema}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

/** Drops database `name` WITH (FORCE) (open connections are closed); nothing when it is gone already. */
async function dropDatabase(name: string, serverUrl: string): Promise<void> {
  await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/**
 * Creates a fresh database and applies all migrations of `schema` with the offline migration
 * runner (scripts/migrate.mjs), so every test file gets its own database (no test sees another's data).
 * @throws Error with the runner's output when a migration fails
 */
export async function createTestDatabase(schema: "instance" | "frontend", serverUrl = testServerUrl()): Promise<TestDatabase> {
  const { name, url } = await createEmptyDatabase(schema, serverUrl);
  try {
    await run(process.execPath, [path.join(root, "scripts/migrate.mjs"), "deploy", "--schema", schema], {
      env: { ...process.env, DATABASE_URL: url },
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`migrating test database ${name} (${schema}) failed: ${err.stderr || err.stdout || err.message}`);
  }
  return {
    name,
    url,
    async drop() {
      await dropDatabase(name, serverUrl);
    },
  };
}

/** A throw-away database migrated only up to (not including) one migration, to test that migration on old rows. */
export interface PartlyMigratedDatabase extends TestDatabase {
  /** Runs SQL (one or more statements) and returns the rows of the last one. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Applies the held-back migration's SQL. */
  applyTarget(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a database of `schema` with every migration BEFORE the one whose folder ends in
 * `_<targetName>` applied (their SQL run in folder order, as the runner would), so a test can insert
 * rows in the old shape and then apply the target migration.
 * @throws Error when no migration folder ends in `_<targetName>`
 */
export async function createTestDatabaseBefore(
  schema: "instance" | "frontend",
  targetName: string,
  serverUrl = testServerUrl(),
): Promise<PartlyMigratedDatabase> {
  const dir = path.join(root, "prisma", schema, "migrations");
  const folders = (await readdir(dir)).filter((d) => /^\d+_/.test(d)).sort();
  const target = folders.findIndex((d) => d.endsWith(`_${targetName}`));
  if (target < 0) throw new Error(`no ${schema} migration named '${targetName}'`);
  const { name, url } = await createEmptyDatabase(schema, serverUrl);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const f of folders.slice(0, target)) await client.query(await readFile(path.join(dir, f, "migration.sql"), "utf8"));
  return {
    name,
    url,
    async query<T>(sql: string, params?: unknown[]) {
      const r = await client.query(sql, params);
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      return (last?.rows ?? []) as T[];
    },
    async applyTarget() {
      await client.query(await readFile(path.join(dir, folders[target]!, "migration.sql"), "utf8"));
    },
    async close() {
      await client.end().catch(() => undefined);
    },
    async drop() {
      await client.end().catch(() => undefined);
      await dropDatabase(name, serverUrl);
    },
  };
}
