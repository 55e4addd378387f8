import type { TJobBundle } from "@magma/protocol";
import type { InstanceDb, TestJob } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { renderDeviceDictionary } from "../devices/render-device-dictionary.ts";

/**
 * The job bundle, LAVA's `internal_v1_jobs` GET: the stored (normalised) definition and the rendered
 * device dictionary of the job's device; `dispatcher`, `env`, `env-dut` are null (Magma has no
 * per-worker dispatcher.d yet).
 * @throws AppError CONFLICT when the job has no device (never scheduled)
 */
export async function getJobBundle(db: InstanceDb, job: TestJob): Promise<TJobBundle> {
  if (job.actualDeviceId === null) throw new AppError("CONFLICT", `Job ${job.id} is not scheduled on a device`);
  const device = await db.device.findUniqueOrThrow({ where: { id: job.actualDeviceId }, include: { deviceType: true } });
  return {
    definition: job.definition,
    device: renderDeviceDictionary({
      hostname: device.hostname,
      deviceType: device.deviceType.name,
      defaults: device.deviceType.dictionary,
      overrides: device.dictionary,
    }),
    dispatcher: null,
    env: null,
    "env-dut": null,
  };
}
