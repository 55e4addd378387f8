import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  createFrontendDb,
  findInstanceByName,
  frontendQuery,
  PrismaClient,
  sqlTransaction,
  type FrontendDb,
  type SqlTx,
} from "../src/frontend/index.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing/index.ts";

/**
 * The frontend's direct `pg` path (federation ingest's statements): a transaction commits what its
 * function wrote, rolls everything back when it throws or outlives its timeout, reads timestamps as
 * UTC as Prisma does; a client without a registered pool runs the same SQL through Prisma.
 */
let tdb: TestDatabase;
let db: FrontendDb;
let bare: FrontendDb;
const labs = async (d: FrontendDb) => (await d.instance.findMany({ orderBy: { name: "asc" } })).map((i) => i.name);
beforeAll(async () => {
  tdb = await createTestDatabase("frontend");
  db = createFrontendDb(tdb.url, 2);
  bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: tdb.url, max: 2 }) });
});
afterAll(async () => {
  await db?.$disconnect();
  await bare?.$disconnect();
  await tdb?.drop();
});

const OPTS = { maxWait: 5000, timeout: 10_000 };
/** Runs `fn` in a transaction of `db` that inserts lab `name` first, then fails as `fn` makes it. */
const failingAfterInsert = (name: string, fn: (tx: SqlTx) => Promise<unknown>, timeout = OPTS.timeout) =>
  sqlTransaction(
    db,
    async (tx) => {
      await tx.$executeRaw`INSERT INTO instance (name, url, api_token, callback_token, updated_at) VALUES (${name}, 'http://z', 'a', 'c', now())`;
      await fn(tx);
    },
    { maxWait: OPTS.maxWait, timeout },
  );
const insertLab = (name: string) =>
  `INSERT INTO instance (name, url, api_token, callback_token, last_contact_at, updated_at) VALUES ('${name}', 'http://x', 'a', 'c', '2026-01-02 03:04:05', now())`;

describe("sqlTransaction and frontendQuery (pg pool behind the Prisma client)", () => {
  it("commits the statements of a transaction, tagged templates with array parameters", async () => {
    const n = await sqlTransaction(
      db,
      async (tx) => {
        await tx.$executeRaw`INSERT INTO instance (name, url, api_token, callback_token, updated_at) VALUES (${"lab-a"}, ${"http://a"}, 'a', 'c', now())`;
        const rows = await tx.$queryRaw<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM instance WHERE name = ANY(${["lab-a", "lab-b"]}::text[])`;
        return rows[0]!.n;
      },
      OPTS,
    );
    expect(n).toBe(1);
    expect(await labs(db)).toEqual(["lab-a"]);
  });

  it("rolls everything back when the function throws, and the connection stays usable", async () => {
    await expect(
      failingAfterInsert("lab-z", async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    // a failing statement aborts the transaction: rolled back too
    await expect(sqlTransaction(db, async (tx) => tx.$executeRaw`INSERT INTO instance (id, name) VALUES (1, NULL)`, OPTS)).rejects.toThrow(
      /null value/,
    );
    expect(await labs(db)).toEqual(["lab-a"]);
  });

  it("ends a statement that outlives the timeout and rolls the transaction back", async () => {
    await expect(failingAfterInsert("lab-slow", (tx) => tx.$queryRaw`SELECT pg_sleep(5)`, 300)).rejects.toThrow(/statement timeout/);
    expect(await labs(db)).toEqual(["lab-a"]);
  });

  it("reads timestamps without time zone as UTC, as Prisma does, on both paths", async () => {
    await frontendQuery(db, "test_insert_lab_b", insertLab("lab-b"), []);
    const direct = await findInstanceByName(db, "lab-b");
    const viaPrisma = await findInstanceByName(bare, "lab-b");
    expect(direct?.lastContactAt).toBe("2026-01-02T03:04:05.000Z");
    expect(viaPrisma).toEqual(direct);
    // the Prisma path runs transactions too
    await sqlTransaction(bare, async (tx) => tx.$executeRaw`UPDATE instance SET kind = 'lava' WHERE name = 'lab-b'`, OPTS);
    expect((await findInstanceByName(db, "lab-b"))?.kind).toBe("lava");
  });
});
