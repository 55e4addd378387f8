import { createFrontendDb, type FrontendDb } from "@magma/db/frontend";
import { env } from "../env.ts";

const g = globalThis as unknown as { magmaFrontendDb?: FrontendDb };

/** The shared Prisma client (one per process, kept on globalThis across dev reloads). */
export function db(): FrontendDb {
  return (g.magmaFrontendDb ??= createFrontendDb(env().MAGMA_FRONTEND_DATABASE_URL));
}

/** Disconnects the shared client (shutdown, tests). */
export async function closeDb(): Promise<void> {
  const d = g.magmaFrontendDb;
  g.magmaFrontendDb = undefined;
  await d?.$disconnect();
}
