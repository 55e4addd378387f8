import type { TransitionContext } from "../jobs/job-transitions.ts";
import type { Logger } from "../logger.ts";

interface DeviceRow {
  id: number;
  hostname: string;
  tags: string[];
  device_type_id: number;
  worker: string;
  worker_id: number;
  job_limit: number;
}

/**
 * Second half of LAVA's `schedule()` (`schedule_jobs`): devices Idle, on Online+Active workers, with
 * health Good — or Unknown when their device type has no enabled health check (otherwise the health
 * check runs first) — in random order (spreads load); for each, the first Submitted job of its
 * device type whose tags are a subset of the device tags, by `-priority, submit_time, id`. One job
 * per device per pass; job → Scheduled with `actual_device`, device → Reserved. Devices and jobs are
 * locked `FOR UPDATE SKIP LOCKED`, so overlapping passes never give a job or a device twice.
 * A worker's `job_limit` (0 = unlimited) caps its busy devices.
 * @returns the number of jobs scheduled
 */
export async function scheduleJobs(t: TransitionContext, logger: Logger): Promise<number> {
  const { tx } = t;
  const devices = await tx.$queryRaw<DeviceRow[]>`
    SELECT d.id, d.hostname, d.tags, d.device_type_id, w.hostname AS worker, w.id AS worker_id, w.job_limit
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN device_types dt ON dt.id = d.device_type_id
    WHERE d.state = 'Idle' AND w.state = 'Online' AND w.health = 'Active'
      AND (d.health = 'Good' OR (d.health = 'Unknown' AND (dt.health_check_definition IS NULL OR dt.disable_health_check)))
      AND EXISTS (SELECT 1 FROM test_jobs j WHERE j.state = 'Submitted' AND j.requested_device_type_id = d.device_type_id)
    ORDER BY random()
    FOR UPDATE OF d SKIP LOCKED`;
  const busy = new Map<number, number>();
  let scheduled = 0;
  for (const d of devices) {
    if (d.job_limit > 0) {
      if (!busy.has(d.worker_id)) busy.set(d.worker_id, await tx.device.count({ where: { workerId: d.worker_id, state: { not: "Idle" } } }));
      if (busy.get(d.worker_id)! >= d.job_limit) continue;
    }
    const jobs = await tx.$queryRaw<{ id: number }[]>`
      SELECT id FROM test_jobs
      WHERE state = 'Submitted' AND actual_device_id IS NULL
        AND requested_device_type_id = ${d.device_type_id}
        AND tags <@ ${d.tags}::text[]
      ORDER BY priority DESC, submit_time ASC, id ASC
      LIMIT 1
      FOR UPDATE SKIP LOCKED`;
    const job = jobs[0];
    if (!job) continue;
    await tx.testJob.update({ where: { id: job.id }, data: { state: "Scheduled", actualDeviceId: d.id } });
    await tx.device.update({ where: { id: d.id }, data: { state: "Reserved", currentJobId: job.id } });
    busy.set(d.worker_id, (busy.get(d.worker_id) ?? 0) + 1);
    t.effects.wakeWorker(d.worker).jobChanged(job.id);
    logger.info({ jobId: job.id, device: d.hostname, worker: d.worker }, "job scheduled");
    scheduled++;
  }
  return scheduled;
}
