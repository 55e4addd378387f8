import type { TWorkerHealth, TWorkerState } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TWorkerDetail } from "../dto.ts";

/** Workers as the lab administration reads and changes them (LAVA `scheduler.workers.*`). */

/** Worker hostnames; Retired ones only when `showAll` (LAVA `workers.list`). */
export async function listWorkerHostnames(db: InstanceDb | InstanceTx, showAll: boolean): Promise<string[]> {
  const rows = await db.worker.findMany({ where: showAll ? {} : { health: { not: "Retired" } }, select: { hostname: true }, orderBy: { hostname: "asc" } });
  return rows.map((r) => r.hostname);
}

/** The worker called `hostname` with its devices' hostnames (sorted), or null. Never its token. */
export async function findWorkerDetail(db: InstanceDb | InstanceTx, hostname: string): Promise<TWorkerDetail | null> {
  const w = await db.worker.findUnique({ where: { hostname }, include: { devices: { select: { hostname: true }, orderBy: { hostname: "asc" } } } });
  if (!w) return null;
  return {
    id: w.id,
    hostname: w.hostname,
    description: w.description,
    state: w.state as TWorkerState,
    health: w.health as TWorkerHealth,
    lastPing: w.lastPing,
    jobLimit: w.jobLimit,
    version: w.version,
    devices: w.devices.map((d) => d.hostname),
  };
}

/** Changes what is given of worker `workerId` (description, health, job limit); omitted fields stay. */
export async function updateWorkerFields(db: InstanceDb | InstanceTx, workerId: number, f: { description?: string; health?: TWorkerHealth; jobLimit?: number }): Promise<void> {
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
  const stale = await db.worker.findMany({ where: staleWhere, select: { hostname: true } });
  if (!stale.length) return [];
  const names = stale.map((w) => w.hostname);
  await db.worker.updateMany({ where: { hostname: { in: names }, ...staleWhere }, data: { state: "Offline" } });
  return names;
}
