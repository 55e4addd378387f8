import pg from "pg";

/**
 * What the instance's and the frontend's direct `pg` paths share (`instance/direct-sql.ts`,
 * `frontend/direct-sql.ts`): the registry of the `pg` pool behind each Prisma client made by
 * `createInstanceDb` / `createFrontendDb`, and the result types Prisma's adapter would return.
 */

const pools = new WeakMap<object, pg.Pool>();

/** Records the `pg` pool behind a Prisma client (called by the client factories). */
export function registerPgPool(db: object, pool: pg.Pool): void {
  pools.set(db, pool);
}

/**
 * The `pg` pool behind `db`, or undefined for a transaction client, a client made elsewhere, or
 * after `$disconnect` ended the pool (Prisma then opens a new one of its own on the next query).
 */
export function pgPoolOf(db: object): pg.Pool | undefined {
  const pool = pools.get(db);
  return pool && !pool.ended ? pool : undefined;
}

/** PostgreSQL type oids the parsers below handle. */
export const PG_OID = { timestamp: 1114, timestamptz: 1184, int8: 20 } as const;

/** `timestamp` (without time zone) columns hold UTC, as Prisma writes them: read them as UTC, not local time. */
function utcTimestamp(s: string): Date | string {
  if (s === "infinity" || s === "-infinity") return s;
  return new Date(`${s.replace(" ", "T")}Z`);
}

/**
 * Result types as Prisma's adapter returns them: timestamps without time zone as UTC instants,
 * `bigint` as a JS bigint; everything else as `pg` parses it (timestamptz → Date, json/jsonb →
 * value, int4 → number, text[] → string[], int4[] → number[]).
 */
export const PRISMA_RESULT_TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (format !== "binary") {
      if (oid === PG_OID.timestamp) return utcTimestamp;
      if (oid === PG_OID.int8) return (s: string) => BigInt(s);
    }
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;
