import type { TJobState, TWorkerHealth, TWorkerState } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";
import { directQuery } from "../direct-sql.ts";
import type { TWorkerDetail } from "../dto.ts";
import { toWorkerRecord } from "./inventory-repository.ts";

/** Workers as the lab administration reads and changes them (LAVA `scheduler.workers.*`). */

/** Worker hostnames; Retired ones only when `showAll` (LAVA `workers.list`). */
export async function listWorkerHostnames(db: InstanceDb | InstanceTx, showAll: boolean): Promise<string[]> {
  const rows = await db.worker.findMany({
    where: showAll ? {} : { health: { not: "Retired" } },
    select: { hostname: true },
    orderBy: { hostname: "asc" },
  });
  return rows.map((r) => r.hostname);
}

/** The worker called `hostname` with its devices' hostnames (sorted), or null. Never its token. */
export async function findWorkerDetail(db: InstanceDb | InstanceTx, hostname: string): Promise<TWorkerDetail | null> {
  const w = await db.worker.findUnique({
    where: { hostname },
    include: { devices: { select: { hostname: true }, orderBy: { hostname: "asc" } } },
  });
  if (!w) return null;
  return {
    id: w.id,
    ...toWorkerRecord(w),
    devices: w.devices.map((d) => d.hostname),
  };
}

/** Changes what is given of worker `workerId` (description, health, job limit); omitted fields stay. */
export async function updateWorkerFields(
  db: InstanceDb | InstanceTx,
  workerId: number,
  f: { description?: string; health?: TWorkerHealth; jobLimit?: number },
): Promise<void> {
  await db.worker.update({ where: { id: workerId }, data: f });
}

/**
 * Sets Offline every Online worker whose last ping is older than `cutoff` (or that never pinged),
 * LAVA's `check_workers`. The update repeats the condition, so a ping that lands in between keeps
 * its worker Online.
 * @returns the hostnames found stale (the ones set Offline, unless such a ping intervened)
 */
export async function markStaleWorkersOffline(db: InstanceDb | InstanceTx, cutoff: Date): Promise<string[]> {
  const staleWhere = { state: "Online" as const, OR: [{ lastPing: { lt: cutoff } }, { lastPing: null }] };
  // the check runs every few seconds and usually finds none: through the pg pool (no query engine)
  const stale = await directQuery<{ hostname: string }>(
    db,
    "stale_workers",
    "SELECT hostname FROM workers WHERE state = 'Online' AND (last_ping < $1::timestamptz OR last_ping IS NULL)",
    [cutoff],
  );
  if (!stale.length) return [];
  const names = stale.map((w) => w.hostname);
  await db.worker.updateMany({ where: { hostname: { in: names }, ...staleWhere }, data: { state: "Offline" } });
  return names;
}

/*
 * The ping path below (credentials, ping record, active jobs, token digest) runs on every worker
 * long-poll and on the way from "job scheduled" to the worker's answer, so its statements go to the
 * `pg` pool as prepared statements ({@link directQuery}; through Prisma's raw query inside a
 * transaction client) instead of Prisma's query engine (0.5–1 ms of CPU per statement).
 */

/** What a ping is checked against: the worker's id, state and token digest; or null. */
export async function findWorkerCredentials(
  db: InstanceDb | InstanceTx,
  hostname: string,
): Promise<{ id: number; state: TWorkerState; tokenDigest: string } | null> {
  const rows = await directQuery<{ id: number; state: TWorkerState; tokenDigest: string }>(
    db,
    "magma_worker_credentials",
    `SELECT id, state::text AS state, token_digest AS "tokenDigest" FROM workers WHERE hostname = $1`,
    [hostname],
  );
  return rows[0] ?? null;
}

/** Records a ping: `last_ping` now (this process's clock, as before), the worker's `version`, state Online. */
export async function recordWorkerPing(db: InstanceDb | InstanceTx, workerId: number, version: string): Promise<void> {
  await directQuery(
    db,
    "magma_worker_ping",
    `UPDATE workers SET last_ping = $2::timestamptz, version = $3, state = 'Online' WHERE id = $1`,
    [workerId, new Date().toISOString(), version],
  );
}

/** Sets a worker Offline and records the `version` it reported (a version mismatch, LAVA). */
export async function setWorkerOffline(db: InstanceDb | InstanceTx, workerId: number, version: string): Promise<void> {
  await db.worker.update({ where: { id: workerId }, data: { state: "Offline", version } });
}

/** Number of Running or Canceling jobs on the devices of worker `workerId`. */
export async function countBusyJobsOfWorker(db: InstanceDb | InstanceTx, workerId: number): Promise<number> {
  return db.testJob.count({ where: { state: { in: ["Running", "Canceling"] }, actualDevice: { workerId } } });
}

/**
 * Scheduled, Running and Canceling jobs on the devices of worker `workerId`, by id, with each job's
 * token nonce and stored token digest (null until a ping first handed it out).
 */
export async function listActiveJobsOfWorker(
  db: InstanceDb | InstanceTx,
  workerId: number,
): Promise<{ id: number; state: TJobState; tokenNonce: string; tokenDigest: string | null }[]> {
  return directQuery(
    db,
    "magma_worker_active_jobs",
    `SELECT j.id, j.state::text AS state, j.token_nonce AS "tokenNonce", j.token_digest AS "tokenDigest"
       FROM test_jobs j JOIN devices d ON d.id = j.actual_device_id
      WHERE j.state IN ('Scheduled', 'Running', 'Canceling') AND d.worker_id = $1
      ORDER BY j.id`,
    [workerId],
  );
}

/** Stores the job token's digest unless one is stored already (a concurrent ping derives the same token). */
export async function storeJobTokenDigestOnce(db: InstanceDb | InstanceTx, jobId: number, digest: string): Promise<void> {
  await directQuery(db, "magma_job_token_digest", `UPDATE test_jobs SET token_digest = $2 WHERE id = $1 AND token_digest IS NULL`, [
    jobId,
    digest,
  ]);
}
