import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/frontend/client";

/** Prisma client of the frontend database (schema prisma/frontend). */
export type FrontendDb = PrismaClient;

/**
 * Opens a Prisma client on an frontend database through the `pg` driver adapter.
 * @param url PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/magma_frontend
 * @param poolMax most pooled connections (default 10)
 * @throws Error when url is empty
 */
export function createFrontendDb(url: string, poolMax = 10): FrontendDb {
  if (!url) throw new Error("createFrontendDb: the database URL is empty");
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolMax }) });
}
