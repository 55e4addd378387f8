import pg from "pg";
import type { Prisma } from "../generated/instance/client";
import type { InstanceDb, InstanceTx } from "./client.ts";

/**
 * Direct `pg` access for the instance's hottest statements (token lookup, job submission, the job
 * list page). Prisma's raw queries cost a few hundred microseconds of its query engine per call on
 * top of the driver (argument and result conversion per value); these paths run thousands of times
 * a second, so they go to the `pg` pool that the Prisma client itself uses (one pool, one
 * `max`), as named prepared statements (PostgreSQL parses and plans each once per connection).
 * A transaction client (or a client not made by `createInstanceDb`) has no registered pool: the
 * same SQL then runs through Prisma's `$queryRawUnsafe`, so callers never need two versions.
 */

const pools = new WeakMap<object, pg.Pool>();

/** Records the `pg` pool behind a Prisma client (called by `createInstanceDb`). */
export function registerPgPool(db: InstanceDb, pool: pg.Pool): void {
  pools.set(db, pool);
}

/**
 * The `pg` pool behind `db`, or undefined for a transaction client, a client made elsewhere, or
 * after `$disconnect` ended the pool (Prisma then opens a new one of its own on the next query).
 */
export function pgPoolOf(db: InstanceDb | InstanceTx): pg.Pool | undefined {
  const pool = pools.get(db);
  return pool && !pool.ended ? pool : undefined;
}

const TIMESTAMP_OID = 1114;
const INT8_OID = 20;

/** `timestamp` (without time zone) columns hold UTC, as Prisma writes them: read them as UTC, not local time. */
function utcTimestamp(s: string): Date | string {
  if (s === "infinity" || s === "-infinity") return s;
  return new Date(`${s.replace(" ", "T")}Z`);
}

/**
 * Result types as Prisma's adapter returns them for the columns these statements read: timestamps
 * without time zone as UTC instants, `bigint` as a JS bigint; everything else as `pg` parses it
 * (timestamptz → Date, json/jsonb → value, int4 → number, text[] → string[]).
 */
const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (format !== "binary") {
      if (oid === TIMESTAMP_OID) return utcTimestamp;
      if (oid === INT8_OID) return (s: string) => BigInt(s);
    }
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

/**
 * Runs one statement and returns its rows as objects keyed by column name.
 * @param name prepared-statement name (unique per SQL text) used on the `pg` path
 * @param text SQL with `$1 … $n` placeholders
 * @param values the parameters (JS arrays become PostgreSQL arrays, objects must be passed as JSON text)
 * @throws the driver's error: on the `pg` path a `pg.DatabaseError` (its `code` is PostgreSQL's
 *   SQLSTATE, e.g. 23505 unique violation, 23503 foreign-key violation); on the Prisma path Prisma's
 *   error (P2010 with the SQLSTATE in `meta.code`)
 */
export async function directQuery<T>(db: InstanceDb | InstanceTx, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = pgPoolOf(db);
  if (!pool) return (db as InstanceDb).$queryRawUnsafe<T[]>(text, ...values);
  const r = await pool.query<T & pg.QueryResultRow>({ name, text, values, types: TYPES });
  return r.rows;
}

/**
 * Runs a composed Prisma SQL fragment (`Prisma.sql\`…\``) on the `pg` pool when there is one, as an
 * unnamed statement (its text varies with the filters), else through `$queryRaw`.
 * @returns the rows as objects keyed by column name
 */
export async function directSqlQuery<T>(db: InstanceDb | InstanceTx, sql: Prisma.Sql): Promise<T[]> {
  const pool = pgPoolOf(db);
  if (!pool) return (db as InstanceDb).$queryRaw<T[]>(sql);
  const r = await pool.query<T & pg.QueryResultRow>({ text: sql.text, values: sql.values, types: TYPES });
  return r.rows;
}

/** One statement on a {@link directTransaction} connection: prepared-statement name, SQL, parameters → rows. */
export type DirectQuery = <T>(name: string, text: string, values: unknown[]) => Promise<T[]>;

/**
 * Runs `fn` in one transaction on a connection of the `pg` pool behind `db` (BEGIN … COMMIT), with
 * the result types of {@link directQuery}; rolled back when `fn` throws or returns `undefined`.
 * Lets a periodic loop that usually finds nothing to do run without Prisma's query engine.
 * @returns what `fn` returned; undefined when `db` has no registered pool (a transaction client, a
 *   client made elsewhere, after `$disconnect`) — the caller then uses Prisma — or when `fn` returned undefined
 * @throws whatever `fn` or the driver throws (after the rollback)
 */
export async function directTransaction<T>(
  db: InstanceDb | InstanceTx,
  fn: (query: DirectQuery) => Promise<T | undefined>,
): Promise<T | undefined> {
  const pool = pgPoolOf(db);
  if (!pool) return undefined;
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const query: DirectQuery = async <R>(name: string, text: string, values: unknown[]) =>
      (await client.query<R & pg.QueryResultRow>({ name, text, values, types: TYPES })).rows;
    const result = await fn(query);
    await client.query(result === undefined ? "ROLLBACK" : "COMMIT");
    return result;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    client.release(broken);
  }
}

/**
 * The PostgreSQL SQLSTATE of a failed statement from either path of {@link directQuery}
 * (`pg`'s `code`, or Prisma's P2010 `meta.code`), else undefined.
 */
export function sqlState(e: unknown): string | undefined {
  const x = e as { code?: unknown; meta?: { code?: unknown } };
  if (typeof x?.code === "string" && /^[0-9A-Z]{5}$/.test(x.code)) return x.code;
  if (typeof x?.meta?.code === "string") return x.meta.code;
  return undefined;
}
