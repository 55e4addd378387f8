import { createHash } from "node:crypto";
import pg from "pg";
import type { Prisma } from "../generated/instance/client";
import type { InstanceDb, InstanceTx } from "./client.ts";
import { PG_OID, PRISMA_RESULT_TYPES, pgPoolOf } from "../pg-direct.ts";

/**
 * Direct `pg` access for the instance's hottest statements (token lookup, job submission, the job
 * list page). Prisma's raw queries cost a few hundred microseconds of its query engine per call on
 * top of the driver (argument and result conversion per value); these paths run thousands of times
 * a second, so they go to the `pg` pool that the Prisma client itself uses (one pool, one
 * `max`), as named prepared statements (PostgreSQL parses and plans each once per connection).
 * A transaction client (or a client not made by `createInstanceDb`) has no registered pool: the
 * same SQL then runs through Prisma's `$queryRawUnsafe`, so callers never need two versions.
 */

export { registerPgPool, pgPoolOf } from "../pg-direct.ts";

const TIMESTAMPTZ_OID = PG_OID.timestamptz;
const TIMESTAMP_OID = PG_OID.timestamp;

/**
 * A `timestamp` (without time zone) text holding UTC, `2026-01-02 03:04:05.678999`, as JavaScript's
 * `Date#toISOString()` writes that instant: `2026-01-02T03:04:05.678Z` (milliseconds truncated, as a
 * Date holds them), by slicing the text; years after 9999, BC dates and infinities go through a Date.
 */
export function isoFromUtcTimestamp(s: string): string {
  if (s.length >= 19 && s[4] === "-" && s[10] === " " && !s.endsWith(" BC")) {
    const frac = s[19] === "." ? s.slice(20, 23).padEnd(3, "0") : "000";
    return `${s.slice(0, 10)}T${s.slice(11, 19)}.${frac}Z`;
  }
  if (s === "infinity" || s === "-infinity") return s;
  // the text as a timestamptz at +00, through pg's own parser (as the column was read before)
  const tz = s.endsWith(" BC") ? `${s.slice(0, -3)}+00 BC` : `${s}+00`;
  return (pg.types.getTypeParser(TIMESTAMPTZ_OID, "text")(tz) as Date).toISOString();
}

/** {@link TYPES}, but `timestamp` (without time zone) columns as {@link isoFromUtcTimestamp} text. */
const ISO_TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMP_OID && format !== "binary") return isoFromUtcTimestamp;
    return TYPES.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

/** Result types as Prisma's adapter returns them (see PRISMA_RESULT_TYPES). */
const TYPES = PRISMA_RESULT_TYPES;

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

/** Prepared-statement names of composed SQL texts, by text (bounded: the texts come from code, not data). */
const statementNames = new Map<string, string>();

/** `magma_q_<sha1 of the text, 20 hex>`: one name per SQL text, never two texts under one name. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `magma_q_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    if (statementNames.size >= 1024) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs a composed Prisma SQL fragment (`Prisma.sql\`…\``) on the `pg` pool when there is one, else
 * through `$queryRaw`. On the pool it is an unnamed statement, or with `prepare` a named prepared
 * statement (named after a hash of its text, so PostgreSQL parses it once per connection): use
 * `prepare` only where the text comes from a bounded set of shapes (filters that are present or not),
 * never where values are written into the text, since each connection keeps every statement it prepared.
 * With `isoTimestamps`, `timestamp` (without time zone, UTC) columns come as ISO 8601 text
 * ({@link isoFromUtcTimestamp}) instead of Dates (on the Prisma path they stay Dates).
 * @returns the rows as objects keyed by column name
 */
export async function directSqlQuery<T>(
  db: InstanceDb | InstanceTx,
  sql: Prisma.Sql,
  opts: { prepare?: boolean; isoTimestamps?: boolean } = {},
): Promise<T[]> {
  const pool = pgPoolOf(db);
  if (!pool) return (db as InstanceDb).$queryRaw<T[]>(sql);
  const text = sql.text;
  const r = await pool.query<T & pg.QueryResultRow>({
    ...(opts.prepare ? { name: statementName(text) } : {}),
    text,
    values: sql.values,
    types: opts.isoTimestamps ? ISO_TYPES : TYPES,
  });
  return r.rows;
}

/** One statement on a {@link directTransaction} connection: prepared-statement name, SQL, parameters → rows. */
export type DirectQuery = <T>(name: string, text: string, values: unknown[]) => Promise<T[]>;

/**
 * A {@link DirectQuery} over a Prisma transaction client (`$queryRawUnsafe`; the statement name is
 * not used), so one piece of plain SQL runs both in a `pg` transaction and in a Prisma one.
 */
export function txQuery(tx: InstanceTx): DirectQuery {
  return <R>(_name: string, text: string, values: unknown[]) => tx.$queryRawUnsafe<R[]>(text, ...values);
}

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
