import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "../generated/instance/client";
import { registerPgPool } from "./direct-sql.ts";

/** Prisma client of one instance's database (schema prisma/instance). */
export type InstanceDb = PrismaClient;

/** The client handed to an interactive transaction callback (`db.$transaction(async (tx) => …)`). */
export type InstanceTx = Prisma.TransactionClient;

/**
 * Opens a Prisma client on an instance database through the `pg` driver adapter. The `pg` pool is
 * created here and handed to the adapter (which ends it on `$disconnect`), so the hottest statements
 * can use the same pool directly (`direct-sql.ts`). The Prisma client itself is created on first use
 * (reading its schema and loading its query compiler costs a few MB of RSS): an instance whose idle
 * loops only use the pool never creates it; `$disconnect` before any use just ends the pool.
 * @param url PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/magma_lab_a
 * @param poolMax most pooled connections (default 10)
 * @throws Error when url is empty
 */
export function createInstanceDb(url: string, poolMax = 10): InstanceDb {
  if (!url) throw new Error("createInstanceDb: the database URL is empty");
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  // an idle connection that breaks (server restart) is dropped by the pool; without a listener its
  // 'error' event would end the process before Prisma's adapter attaches its own
  pool.on("error", () => {});
  // the adapter declares its own copy of @types/pg; the runtime `pg` module is the same one
  const adapterPool = pool as unknown as ConstructorParameters<typeof PrismaPg>[0];
  let client: PrismaClient | null = null;
  const real = () => (client ??= new PrismaClient({ adapter: new PrismaPg(adapterPool, { disposeExternalPool: true }) }));
  const endPool = async () => {
    if (!pool.ended) await pool.end();
  };
  // each function handed out is bound to the client once (not on every `db.$transaction` access)
  const bound = new WeakMap<(...a: unknown[]) => unknown, (...a: unknown[]) => unknown>();
  const db = new Proxy({} as PrismaClient, {
    get(_target, prop) {
      if (prop === "$disconnect" && !client) return endPool;
      const c = real();
      const v: unknown = Reflect.get(c, prop, c);
      if (typeof v !== "function") return v;
      const f = v as (...a: unknown[]) => unknown;
      let b = bound.get(f);
      if (!b) bound.set(f, (b = f.bind(c)));
      return b;
    },
    set: (_target, prop, value) => Reflect.set(real(), prop, value),
    has: (_target, prop) => Reflect.has(real(), prop),
  });
  registerPgPool(db, pool);
  return db;
}
