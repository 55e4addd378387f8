import type { TWorkerHealth } from "@magma/protocol";
import {
  findWorkerDetail,
  listWorkerHostnames as listHostnames,
  updateWorkerFields,
  type InstanceDb,
  type TWorkerDetail,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

/** Worker hostnames; Retired ones only when `showAll` (LAVA `workers.list`). */
export async function listWorkerHostnames(db: InstanceDb, showAll: boolean): Promise<string[]> {
  return listHostnames(db, showAll);
}

/** @throws AppError NOT_FOUND `Worker '<hostname>' was not found.` (LAVA's text) */
export async function getWorker(db: InstanceDb, hostname: string): Promise<TWorkerDetail> {
  const w = await findWorkerDetail(db, hostname);
  if (!w) throw new AppError("NOT_FOUND", `Worker '${hostname}' was not found.`);
  return w;
}

export interface UpdateWorkerOptions {
  description?: string | null;
  health?: TWorkerHealth | null;
  jobLimit?: number | null;
}

/**
 * Updates a worker (LAVA `workers.update`; lavacli `workers maintenance|update`). A worker in
 * Maintenance or Retired gets no new jobs (the scheduler only uses Active workers); running jobs go on.
 * @throws AppError NOT_FOUND, INVALID_REQUEST for a negative job limit
 */
export async function updateWorker(ctx: InstanceContext, hostname: string, o: UpdateWorkerOptions): Promise<void> {
  const w = await getWorker(ctx.db, hostname);
  if (o.jobLimit != null && o.jobLimit < 0)
    throw new AppError("INVALID_REQUEST", `job_limit must be a positive integer, got ${o.jobLimit}`);
  await updateWorkerFields(ctx.db, w.id, {
    ...(o.description != null ? { description: o.description } : {}),
    ...(o.health ? { health: o.health } : {}),
    ...(o.jobLimit != null ? { jobLimit: o.jobLimit } : {}),
  });
  ctx.logger.info({ worker: hostname, ...o }, "worker updated");
  ctx.scheduler?.trigger();
}
