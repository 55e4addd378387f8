import type { InstanceDb, Prisma, WorkerHealth } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

const WORKER_INCLUDE = { devices: { select: { hostname: true }, orderBy: { hostname: "asc" } } } as const;
export type WorkerWithDevices = Prisma.WorkerGetPayload<{ include: typeof WORKER_INCLUDE }>;

/** Worker hostnames; Retired ones only when `showAll` (LAVA `workers.list`). */
export async function listWorkerHostnames(db: InstanceDb, showAll: boolean): Promise<string[]> {
  const rows = await db.worker.findMany({ where: showAll ? {} : { health: { not: "Retired" } }, select: { hostname: true }, orderBy: { hostname: "asc" } });
  return rows.map((r) => r.hostname);
}

/** @throws AppError NOT_FOUND `Worker '<hostname>' was not found.` (LAVA's text) */
export async function getWorker(db: InstanceDb, hostname: string): Promise<WorkerWithDevices> {
  const w = await db.worker.findUnique({ where: { hostname }, include: WORKER_INCLUDE });
  if (!w) throw new AppError("NOT_FOUND", `Worker '${hostname}' was not found.`);
  return w;
}

export interface UpdateWorkerOptions {
  description?: string | null;
  health?: WorkerHealth | null;
  jobLimit?: number | null;
}

/**
 * Updates a worker (LAVA `workers.update`; lavacli `workers maintenance|update`). A worker in
 * Maintenance or Retired gets no new jobs (the scheduler only uses Active workers); running jobs go on.
 * @throws AppError NOT_FOUND, INVALID_REQUEST for a negative job limit
 */
export async function updateWorker(ctx: InstanceContext, hostname: string, o: UpdateWorkerOptions): Promise<void> {
  const w = await getWorker(ctx.db, hostname);
  if (o.jobLimit != null && o.jobLimit < 0) throw new AppError("INVALID_REQUEST", `job_limit must be a positive integer, got ${o.jobLimit}`);
  await ctx.db.worker.update({
    where: { id: w.id },
    data: { ...(o.description != null ? { description: o.description } : {}), ...(o.health ? { health: o.health } : {}), ...(o.jobLimit != null ? { jobLimit: o.jobLimit } : {}) },
  });
  ctx.logger.info({ worker: hostname, ...o }, "worker updated");
  ctx.scheduler?.trigger();
}
