import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/frontend/client";
import { registerPgPool } from "../pg-direct.ts";

/** Prisma client of the frontend database (schema prisma/frontend). */
export type FrontendDb = PrismaClient;

/**
 * Opens a Prisma client on an frontend database through the `pg` driver adapter. The `pg` pool is
 * created here and handed to the adapter (which ends it on `$disconnect`), so federation ingest's
 * statements can use the same pool directly (`direct-sql.ts`).
 * @param url PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/magma_frontend
 * @param poolMax most pooled connections (default 10)
 * @throws Error when url is empty
 */
export function createFrontendDb(url: string, poolMax = 10): FrontendDb {
  if (!url) throw new Error("createFrontendDb: the database URL is empty");
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  // an idle connection that breaks (server restart) is dropped by the pool; without a listener its
  // 'error' event would end the process before Prisma's adapter attaches its own
  pool.on("error", () => {});
  // the adapter declares its own copy of @types/pg; the runtime `pg` module is the same one
  const adapterPool = pool as unknown as ConstructorParameters<typeof PrismaPg>[0];
  const db = new PrismaClient({ adapter: new PrismaPg(adapterPool, { disposeExternalPool: true }) });
  registerPgPool(db, pool);
  return db;
}
