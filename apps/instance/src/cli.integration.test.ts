import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@magma/db/testing";
import { createInstanceDb, type InstanceDb } from "@magma/db/instance";
import { digestSecret } from "@magma/db/secrets";
import { DEFAULT_LAB } from "./testing/harness.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

let tdb: TestDatabase;
let db: InstanceDb;
let labFile: string;

/** Runs the admin CLI as a real process on the test database; resolves its stdout, rejects with its stderr. */
async function cli(...args: string[]): Promise<string> {
  const env = { PATH: process.env["PATH"] ?? "", MAGMA_INSTANCE_DATABASE_URL: tdb.url, MAGMA_LOG_LEVEL: "silent" };
  const r = await run(process.execPath, ["--import", "tsx", CLI, ...args], { env, timeout: 60_000 });
  return r.stdout;
}

beforeAll(async () => {
  tdb = await createTestDatabase("instance");
  db = createInstanceDb(tdb.url, 2);
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  labFile = join(await mkdtemp(join(tmpdir(), "magma-cli-")), "lab.yaml");
  await writeFile(labFile, DEFAULT_LAB);
}, 60_000);
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

describe("admin CLI (a real process on a real database)", () => {
  it("seeds a lab idempotently, manages users, groups and tokens, lists users and devices", async () => {
    const seeded = await cli("seed", labFile);
    expect(seeded).toMatch(/^seeded \d+ users, \d+ workers, \d+ device_types, \d+ devices/);
    expect(await cli("seed", labFile)).toBe(seeded);
    expect((await cli("user", "add", "carol", "--group", "team-a", "team-b")).trim()).toBe("carol");
    await cli("user", "add", "dave");
    await cli("group", "add", "team-c", "carol", "dave");
    await cli("group", "remove-member", "team-a", "carol");
    const users = (await cli("user", "list"))
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    expect(users).toContainEqual(["carol", "-", "team-b,team-c"]);
    expect(users).toContainEqual(["dave", "-", "team-c"]);
    expect(users.find((u) => u[0] === "admin")?.[1]).toBe("superuser");

    const secret = (await cli("token", "add", "erin", "--description", "ci", "--federation")).trim();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    const token = await db.apiToken.findUniqueOrThrow({ where: { secretDigest: digestSecret(secret) }, include: { user: true } });
    expect([token.user.username, token.user.isSuperuser, token.description, token.federation]).toEqual(["erin", false, "ci", true]);

    const devices = (await cli("devices", "list"))
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    expect(devices.length).toBeGreaterThan(0);
    expect(devices[0]).toHaveLength(6);
  }, 120_000);

  it("names the problem of a bad argument", async () => {
    await expect(cli("token", "add", "erin", "--secret", "short")).rejects.toMatchObject({
      stderr: expect.stringContaining("--secret: a token secret needs at least 16 characters"),
    });
    await expect(cli("user", "add", "bad name")).rejects.toMatchObject({ stderr: expect.stringContaining("<name>: 'bad name'") });
    await expect(cli("group", "remove-member", "no-such-group", "dave")).rejects.toMatchObject({
      stderr: expect.stringContaining("group 'no-such-group' does not exist"),
    });
  }, 120_000);
});
