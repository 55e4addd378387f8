import { createFrontendDb, type FrontendDb } from "@magma/db/frontend";
import { env } from "../env.ts";

const g = globalThis as unknown as { magmaFrontendDb?: FrontendDb };

/**
 * The shared Prisma client (one per process, kept on globalThis across dev reloads). Its pool has
 * room for every callback ingest running at once (MAGMA_CALLBACK_CONCURRENCY) plus 10 for requests.
 */
export function db(): FrontendDb {
  const e = env();
  return (g.magmaFrontendDb ??= createFrontendDb(e.MAGMA_FRONTEND_DATABASE_URL, e.MAGMA_CALLBACK_CONCURRENCY + 10));
}

/** Disconnects the shared client (shutdown, tests). */
export async function closeDb(): Promise<void> {
  const d = g.magmaFrontendDb;
  g.magmaFrontendDb = undefined;
  await d?.$disconnect();
}
