import type { TJobBundle } from "@magma/protocol";
import { findDeviceDetailById, type InstanceDb, type TJobForWorker } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { renderDeviceConfig } from "../devices/render-device-dictionary.ts";

/**
 * The job bundle, LAVA's `internal_v1_jobs` GET: the stored (normalised) definition and the rendered
 * device dictionary of the job's device; `dispatcher`, `env`, `env-dut` are null (Magma has no
 * per-worker dispatcher.d yet).
 * @throws AppError CONFLICT when the job has no device (never scheduled)
 */
export async function getJobBundle(db: InstanceDb, job: TJobForWorker): Promise<TJobBundle> {
  if (job.actualDeviceId === null) throw new AppError("CONFLICT", `Job ${job.id} is not scheduled on a device`);
  const device = await findDeviceDetailById(db, job.actualDeviceId);
  if (!device) throw new Error(`getJobBundle: device ${job.actualDeviceId} of job ${job.id} does not exist`);
  return {
    definition: job.definition,
    device: await renderDeviceConfig(db, device),
    dispatcher: null,
    env: null,
    "env-dut": null,
  };
}
