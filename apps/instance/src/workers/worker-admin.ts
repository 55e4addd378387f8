import type { TWorkerHealth } from "@magma/protocol";
import { digestSecret, randomSecret } from "@magma/db/secrets";
import {
  createWorker,
  deleteWorker,
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

/** A worker hostname: letters, digits, `.`, `_`, `-`. */
const WORKER_HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Creates a worker (LAVA `workers.add`): Active, or Retired when `disabled`, with a fresh random
 * token of which only the digest is stored. The token is returned once (LAVA shows it in
 * `workers show`; Magma cannot, as it keeps only the digest): give it to the worker daemon.
 * @returns the worker's token
 * @throws AppError INVALID_REQUEST for a bad hostname or `Bad request: worker already exists?`
 */
export async function addWorker(
  ctx: InstanceContext,
  o: { hostname: string; description: string | null; disabled: boolean },
): Promise<string> {
  if (!WORKER_HOSTNAME.test(o.hostname))
    throw new AppError("INVALID_REQUEST", `Invalid hostname '${o.hostname}': letters, digits, '.', '_' and '-' only`);
  const token = randomSecret(32);
  const r = await createWorker(ctx.db, {
    hostname: o.hostname,
    description: o.description,
    health: o.disabled ? "Retired" : "Active",
    tokenDigest: digestSecret(token),
  });
  if (r === "exists") throw new AppError("INVALID_REQUEST", "Bad request: worker already exists?");
  ctx.logger.info({ worker: o.hostname, disabled: o.disabled }, "worker added");
  return token;
}

/**
 * Deletes a worker (LAVA `workers.delete`); its devices stay, without a worker. Refused while one of
 * its devices runs a job.
 * @throws AppError NOT_FOUND `Worker 'x' was not found.`, CONFLICT while busy
 */
export async function removeWorker(ctx: InstanceContext, hostname: string): Promise<void> {
  const r = await deleteWorker(ctx.db, hostname);
  if (r === "missing") throw new AppError("NOT_FOUND", `Worker '${hostname}' was not found.`);
  if (r === "busy")
    throw new AppError("CONFLICT", `Worker '${hostname}' has a device running a job; wait or cancel it before deleting the worker.`);
  ctx.logger.info({ worker: hostname }, "worker deleted");
}
