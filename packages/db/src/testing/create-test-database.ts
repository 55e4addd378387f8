import { execFile } from "node:child_process";
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

/**
 * Creates a fresh database and applies all migrations of `schema` with the offline migration
 * runner (scripts/migrate.mjs), so every test file gets its own database (no test sees another's data).
 * @throws Error with the runner's output when a migration fails
 */
export async function createTestDatabase(schema: "instance" | "frontend", serverUrl = testServerUrl()): Promise<TestDatabase> {
  const name = `magma_test_${schema}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    await run(process.execPath, [path.join(root, "scripts/migrate.mjs"), "deploy", "--schema", schema], { env: { ...process.env, DATABASE_URL: url } });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`migrating test database ${name} (${schema}) failed: ${err.stderr || err.stdout || err.message}`);
  }
  return {
    name,
    url,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
