import { db } from "../db.ts";
import { pingRedis } from "../queues/connections.ts";

/** Longest wait for each dependency in a readiness check, ms. */
const READY_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Readiness of the frontend: its PostgreSQL database answers `SELECT 1` and Redis (BullMQ) answers
 * a PING, each within 2 s.
 * @returns `{ready: true}` or `{ready: false, reason}` naming the first dependency that failed
 */
export async function checkReadiness(): Promise<{ ready: true } | { ready: false; reason: string }> {
  try {
    await within(db().$queryRaw`SELECT 1`, "database");
  } catch (e) {
    return {
      ready: false,
      reason: (e as Error).message.startsWith("database") ? (e as Error).message : `database: ${(e as Error).message.split("\n")[0]}`,
    };
  }
  try {
    await within(pingRedis(), "redis");
  } catch (e) {
    return {
      ready: false,
      reason: (e as Error).message.startsWith("redis") ? (e as Error).message : `redis: ${(e as Error).message.split("\n")[0]}`,
    };
  }
  return { ready: true };
}
