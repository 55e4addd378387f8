import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "../generated/instance/client";

/** Prisma client of one instance's database (schema prisma/instance). */
export type InstanceDb = PrismaClient;

/** The client handed to an interactive transaction callback (`db.$transaction(async (tx) => …)`). */
export type InstanceTx = Prisma.TransactionClient;

/**
 * Opens a Prisma client on an instance database through the `pg` driver adapter.
 * @param url PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/magma_lab_a
 * @param poolMax most pooled connections (default 10)
 * @throws Error when url is empty
 */
export function createInstanceDb(url: string, poolMax = 10): InstanceDb {
  if (!url) throw new Error("createInstanceDb: the database URL is empty");
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolMax }) });
}
