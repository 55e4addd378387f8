import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../src/testing/index.ts";

const run = promisify(execFile);
const script = path.resolve(import.meta.dirname, "../scripts/migrate.mjs");
const created: TestDatabase[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

async function migrate(url: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { env: { ...process.env, DATABASE_URL: url } });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe.each(["instance", "frontend"] as const)("offline migrations of the %s schema (WASM schema engine)", (schema) => {
  it("applies every migration to a fresh database, then reports nothing pending, no drift", { timeout: 60_000 }, async () => {
    const db = await createTestDatabase(schema);
    created.push(db);
    expect((await migrate(db.url, "deploy", "--schema", schema)).out).toContain("No pending migrations");
    const status = await migrate(db.url, "status", "--schema", schema);
    expect(status.out).toContain("Database schema is up to date!");
    const drift = await migrate(db.url, "drift", "--schema", schema);
    expect(drift.out).toMatch(/database {3}-> schema.prisma: in sync[\s\S]*migrations -> schema.prisma: in sync/);
    expect(drift.code).toBe(0);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ done: boolean }>(`select finished_at is not null as done from _prisma_migrations`);
    await c.end();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.done)).toBe(true);
  });

  it("refuses to run without a database URL or with an unknown schema, naming the problem", async () => {
    expect(await migrate("", "deploy", "--schema", schema)).toMatchObject({
      code: 64,
      out: expect.stringContaining("DATABASE_URL is not set"),
    });
    expect(await migrate("postgresql://x@127.0.0.1/x", "deploy", "--schema", "nope")).toMatchObject({
      code: 64,
      out: expect.stringContaining('--schema must be "instance" or "frontend"'),
    });
  });
});
