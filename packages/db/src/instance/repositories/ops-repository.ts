import type { InstanceDb, InstanceTx } from "../client.ts";

/** Reads behind the instance's readiness check and Prometheus gauges (one query each). */

/** Runs `SELECT 1` (readiness: does the database answer?). @throws the driver's error when it does not */
export async function pingDatabase(db: InstanceDb | InstanceTx): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** Notify callbacks not yet delivered (outbox rows `pending`) and when the oldest was written (null when none). */
export async function outboxBacklog(db: InstanceDb | InstanceTx): Promise<{ count: number; oldest: Date | null }> {
  const r = await db.callbackOutbox.aggregate({ where: { state: "pending" }, _count: { _all: true }, _min: { createdAt: true } });
  return { count: r._count._all, oldest: r._min.createdAt };
}

/** Every worker's hostname and last ping (null when it never pinged). */
export async function workerLastPings(db: InstanceDb | InstanceTx): Promise<{ hostname: string; lastPing: Date | null }[]> {
  return db.worker.findMany({ select: { hostname: true, lastPing: true } });
}
