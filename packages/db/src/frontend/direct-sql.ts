import pg from "pg";
import { Prisma } from "../generated/frontend/client";
import type { FrontendDb } from "./client.ts";
import { PRISMA_RESULT_TYPES, pgPoolOf } from "../pg-direct.ts";

/**
 * Direct `pg` access for the frontend's hottest path, federation ingest: every lab callback reads
 * its lab (twice: receiver and consumer), records its delivery id, and the consumer writes a batch
 * of callbacks in one transaction of about ten statements carrying thousands of array elements.
 * Through Prisma each of these costs 0.5–1.2 ms of CPU in its query engine (argument conversion per
 * array element, result conversion per value) on top of the driver — more than the rest of the
 * callback's work. They run here on the `pg` pool that the Prisma client itself uses (one pool, one
 * `max`). A client not made by `createFrontendDb` (or after `$disconnect`) has no registered pool:
 * the same SQL then runs through Prisma, so callers never need two versions.
 */

const TYPES = PRISMA_RESULT_TYPES;

/**
 * The raw-SQL part of a Prisma transaction client: tagged templates (or `Prisma.sql` fragments,
 * nested fragments inlined, values bound as `$n` parameters). A Prisma `TransactionClient` is one;
 * so is the client {@link sqlTransaction} hands out on the `pg` path.
 */
export interface SqlTx {
  /** @returns the rows as objects keyed by column name */
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T>;
  /** @returns the number of rows the statement affected */
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number>;
}

/** Options of {@link sqlTransaction}, as Prisma's interactive transactions take them (ms). */
export interface SqlTransactionOptions {
  /** Longest wait for a pooled connection. */
  maxWait: number;
  /** Longest the transaction may run (lock waits included); it is rolled back past it. */
  timeout: number;
}

/**
 * Runs `fn` in one transaction (READ COMMITTED): on the `pg` pool behind `db` when there is one —
 * BEGIN, `fn`'s statements, COMMIT; ROLLBACK when `fn` throws — else through Prisma's
 * `$transaction`. Past `timeout` every statement fails (PostgreSQL's `statement_timeout` ends a
 * statement still running, e.g. waiting for a lock) and the transaction is rolled back.
 * @returns what `fn` returned, once committed
 * @throws what `fn` threw (after the rollback); Error when no connection was free within `maxWait`
 *   or the transaction ran past `timeout`; the driver's error when BEGIN or COMMIT fails
 */
export async function sqlTransaction<T>(db: FrontendDb, fn: (tx: SqlTx) => Promise<T>, o: SqlTransactionOptions): Promise<T> {
  const pool = pgPoolOf(db);
  if (!pool) return db.$transaction((tx) => fn(tx), o);
  const client = await connectWithin(pool, o.maxWait);
  const deadline = Date.now() + o.timeout;
  const run = async (q: TemplateStringsArray | Prisma.Sql, values: unknown[]) => {
    if (Date.now() > deadline) throw new Error(`transaction ran past its ${o.timeout} ms timeout: rolled back`);
    const sql = q instanceof Prisma.Sql ? q : Prisma.sql(q, ...values);
    return client.query({ text: sql.text, values: sql.values, types: TYPES });
  };
  const tx: SqlTx = {
    async $queryRaw<R>(q: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) {
      return (await run(q, values)).rows as R;
    },
    async $executeRaw(q: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) {
      return (await run(q, values)).rowCount ?? 0;
    },
  };
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(o.timeout))}`);
    const out = await fn(tx);
    await client.query("COMMIT");
    return out;
  } catch (e) {
    await client.query("ROLLBACK").catch((err: Error) => (broken = err));
    throw e;
  } finally {
    client.release(broken);
  }
}

/** A pooled connection within `ms`; one that arrives later is handed back to the pool. */
async function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const pending = pool.connect();
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          late = true;
          reject(new Error(`no database connection free within ${ms} ms (pool of ${pool.options.max})`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (late) void pending.then((c) => c.release()).catch(() => {});
  }
}

/**
 * One statement outside any transaction, on the `pg` pool when there is one (as a named prepared
 * statement: parsed and planned once per connection), else through Prisma's `$queryRawUnsafe`.
 * @param name prepared-statement name, unique per SQL text
 * @param text SQL with `$1 … $n` placeholders
 * @returns the rows as objects keyed by column name
 * @throws the driver's error (`pg.DatabaseError` with PostgreSQL's SQLSTATE in `code`, or Prisma's)
 */
export async function frontendQuery<T>(db: FrontendDb, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = pgPoolOf(db);
  if (!pool) return db.$queryRawUnsafe<T[]>(text, ...values);
  return (await pool.query<T & pg.QueryResultRow>({ name, text, values, types: TYPES })).rows;
}
