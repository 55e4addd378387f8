import { parse as parseYaml } from "yaml";
import { MULTINODE_PROTOCOL } from "@magma/protocol";
import type { TransitionContext } from "../jobs/job-transitions.ts";
import { normaliseDefinition } from "../jobs/submit-job.ts";
import type { Logger } from "../logger.ts";

interface GroupJob {
  id: number;
  requested_device_type_id: number;
  tags: string[];
  definition: string;
}

interface FreeDevice {
  id: number;
  hostname: string;
  tags: string[];
  device_type_id: number;
  worker: string;
  worker_id: number;
  job_limit: number;
  busy: number;
}

/** MultiNode groups whose sub-jobs all wait (the first query of {@link scheduleGroups}). */
export const WAITING_GROUPS_SQL = `
    SELECT target_group FROM test_jobs
    WHERE target_group IS NOT NULL
    GROUP BY target_group
    HAVING bool_and(state = 'Submitted' AND actual_device_id IS NULL)
    ORDER BY max(priority) DESC, min(submit_time) ASC, min(id) ASC
    LIMIT 64`;

/**
 * Schedules MultiNode groups all together or not at all (LAVA schedules sub-jobs one by one into
 * `Scheduling`, holding devices until the last one is found; Magma never holds a device for a group
 * it cannot start). Groups whose sub-jobs are all Submitted are taken by `-max(priority),
 * min(submit_time), min(id)`; for each, the sub-jobs are locked, and each (in id order) gets a
 * distinct device of its requested type whose tags include the sub-job's — Idle, on an
 * Online+Active worker under its `job_limit`, health Good (or Unknown when the type has no enabled
 * health check), locked `FOR UPDATE SKIP LOCKED`. When every sub-job has a device, all go
 * Scheduled with their device Reserved, and each sub-job's definition gets the group's
 * `roles: {<job id>: <role>}` (LAVA's `transition_multinode_jobs`); otherwise nothing changes.
 * Runs before single jobs in a pass, so a group is not starved by a stream of single jobs.
 * @returns the number of sub-jobs scheduled
 */
export async function scheduleGroups(t: TransitionContext, logger: Logger): Promise<number> {
  const { tx } = t;
  const groups = await tx.$queryRawUnsafe<{ target_group: string }[]>(WAITING_GROUPS_SQL);
  let scheduled = 0;
  const used = new Set<number>();
  for (const { target_group: group } of groups) {
    const jobs = await tx.$queryRaw<GroupJob[]>`
      SELECT id, requested_device_type_id, tags, definition FROM test_jobs
      WHERE target_group = ${group} AND state = 'Submitted' AND actual_device_id IS NULL
      ORDER BY id
      FOR UPDATE SKIP LOCKED`;
    const total = await tx.testJob.count({ where: { targetGroup: group } });
    if (!jobs.length || jobs.length !== total) continue;
    const types = [...new Set(jobs.map((j) => j.requested_device_type_id))];
    const devices = await tx.$queryRaw<FreeDevice[]>`
      SELECT d.id, d.hostname, d.tags, d.device_type_id, w.hostname AS worker, w.id AS worker_id, w.job_limit,
        (SELECT count(*)::int FROM devices b WHERE b.worker_id = w.id AND b.state <> 'Idle') AS busy
      FROM devices d
      JOIN workers w ON w.id = d.worker_id
      JOIN device_types dt ON dt.id = d.device_type_id
      WHERE d.state = 'Idle' AND w.state = 'Online' AND w.health = 'Active'
        AND d.device_type_id = ANY(${types}::int[])
        AND d.id <> ALL(${[...used]}::int[])
        AND (d.health = 'Good' OR (d.health = 'Unknown' AND (dt.health_check_definition IS NULL OR dt.disable_health_check)))
      ORDER BY random()
      FOR UPDATE OF d SKIP LOCKED`;
    const busy = new Map(devices.map((d) => [d.worker_id, d.busy]));
    const picked: FreeDevice[] = [];
    for (const job of jobs) {
      const d = devices.find(
        (c) =>
          !picked.includes(c) &&
          c.device_type_id === job.requested_device_type_id &&
          job.tags.every((x) => c.tags.includes(x)) &&
          (c.job_limit === 0 || busy.get(c.worker_id)! < c.job_limit),
      );
      if (!d) break;
      picked.push(d);
      busy.set(d.worker_id, busy.get(d.worker_id)! + 1);
    }
    if (picked.length !== jobs.length) {
      logger.debug({ targetGroup: group, subJobs: jobs.length, devices: picked.length }, "multinode group waits for devices");
      continue;
    }
    const roles: Record<string, string> = {};
    const definitions = jobs.map((j) => {
      const raw = parseYaml(j.definition) as Record<string, Record<string, Record<string, unknown>>>;
      roles[String(j.id)] = String(raw["protocols"]![MULTINODE_PROTOCOL]!["role"]);
      return raw;
    });
    for (const [k, job] of jobs.entries()) {
      const raw = definitions[k]!;
      raw["protocols"]![MULTINODE_PROTOCOL]!["roles"] = roles;
      const d = picked[k]!;
      await tx.$executeRaw`
        UPDATE test_jobs SET state = 'Scheduled', actual_device_id = ${d.id}, definition = ${normaliseDefinition(raw)}
        WHERE id = ${job.id}`;
      await tx.$executeRaw`UPDATE devices SET state = 'Reserved', current_job_id = ${job.id} WHERE id = ${d.id}`;
      used.add(d.id);
      t.effects.wakeWorker(d.worker).jobChanged(job.id);
      logger.info({ jobId: job.id, targetGroup: group, device: d.hostname, worker: d.worker }, "multinode sub-job scheduled");
    }
    scheduled += jobs.length;
  }
  return scheduled;
}
