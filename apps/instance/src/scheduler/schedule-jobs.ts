import type { DirectQuery } from "@magma/db/instance";
import { insertFederationCallbacks } from "../notify/enqueue-callbacks.ts";
import type { Effects } from "../effects.ts";
import type { Logger } from "../logger.ts";

/** What a scheduling step runs in: one transaction's statements, what to wake after its commit, the federation URL. */
export interface PassContext {
  /** a statement in the pass's transaction (the `pg` connection's, or Prisma's through {@link txQuery}) */
  query: DirectQuery;
  effects: Effects;
  federation: { url: string } | null;
}

interface DeviceRow {
  id: number;
  hostname: string;
  tags: string[];
  device_type_id: number;
  worker: string;
  worker_id: number;
  job_limit: number;
}

/** Candidate jobs fetched per device type and pass: the idle devices of that type times this, plus a margin. */
const CANDIDATES_PER_DEVICE = 2;
const CANDIDATE_MARGIN = 32;

interface CandidateJob {
  id: number;
  tags: string[];
  requested_device_id: number | null;
  requested_worker_id: number | null;
}

/** Whether device `d` may run job `j`: its tags, and the job's `device:` / `worker:` pinning (LAVA 2025+). */
function fits(j: CandidateJob, d: DeviceRow, tags: Set<string>): boolean {
  return (
    j.tags.every((x) => tags.has(x)) &&
    (j.requested_device_id === null || j.requested_device_id === d.id) &&
    (j.requested_worker_id === null || j.requested_worker_id === d.worker_id)
  );
}

/** Schedulable Idle devices whose type has a Submitted job. */
const JOB_DEVICES_FROM = `
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN device_types dt ON dt.id = d.device_type_id
    WHERE d.state = 'Idle' AND w.state = 'Online' AND w.health = 'Active'
      AND (d.health = 'Good' OR (d.health = 'Unknown' AND (dt.health_check_definition IS NULL OR dt.disable_health_check)))
      AND EXISTS (SELECT 1 FROM test_jobs j WHERE j.state = 'Submitted' AND j.requested_device_type_id = d.device_type_id)`;

/** Those devices, locked in random order (the first query of {@link scheduleJobs}). */
const JOB_DEVICES_SQL = `
    SELECT d.id, d.hostname, d.tags, d.device_type_id, w.hostname AS worker, w.id AS worker_id, w.job_limit
    ${JOB_DEVICES_FROM}
    ORDER BY random()
    FOR UPDATE OF d SKIP LOCKED`;

/**
 * Second half of LAVA's `schedule()` (`schedule_jobs`): devices Idle, on Online+Active workers, with
 * health Good — or Unknown when their device type has no enabled health check (otherwise the health
 * check runs first) — in random order (spreads load); for each, the first Submitted job of its
 * device type whose tags are a subset of the device tags and whose `device:` / `worker:` pinning
 * (if any) names this device / its worker, by `-priority, submit_time, id`. One job
 * per device per pass; job → Scheduled with `actual_device`, device → Reserved. Devices and jobs are
 * locked `FOR UPDATE SKIP LOCKED`, so overlapping passes never give a job or a device twice.
 * A worker's `job_limit` (0 = unlimited) caps its busy devices. MultiNode sub-jobs are left to
 * `scheduleGroups`, which runs first.
 *
 * Set-based, so a pass costs a handful of queries whatever the number of devices: per device type
 * the head of its queue (in queue order, locked) is read once and matched in memory; a device that
 * finds no match there while the queue has more jobs falls back to the per-device query, so the
 * choice is exactly the one the per-device query would make. All assignments are written with two
 * UPDATE … FROM unnest(…) statements; the federation callbacks of the Scheduled jobs are inserted in
 * the same transaction. Every statement is plain SQL on `p.query`, so the pass runs on the `pg` pool
 * (the scheduler's usual pass) or inside a Prisma transaction alike.
 * @returns the number of jobs scheduled
 */
export async function scheduleJobs(p: PassContext, logger: Logger): Promise<number> {
  const { query } = p;
  const devices = await query<DeviceRow>("sched_job_devices_locked", JOB_DEVICES_SQL, []);
  if (!devices.length) return 0;

  const busy = new Map<number, number>();
  const limited = [...new Set(devices.filter((d) => d.job_limit > 0).map((d) => d.worker_id))];
  if (limited.length) {
    for (const w of limited) busy.set(w, 0);
    const rows = await query<{ worker_id: number; n: number }>(
      "sched_busy_devices",
      "SELECT worker_id, count(*)::int AS n FROM devices WHERE worker_id = ANY($1::int[]) AND state <> 'Idle' GROUP BY worker_id",
      [limited],
    );
    for (const r of rows) busy.set(r.worker_id, r.n);
  }

  const perType = new Map<number, number>();
  for (const d of devices) perType.set(d.device_type_id, (perType.get(d.device_type_id) ?? 0) + 1);
  const queues = new Map<number, { jobs: CandidateJob[]; more: boolean }>();
  for (const [typeId, count] of perType) {
    const limit = count * CANDIDATES_PER_DEVICE + CANDIDATE_MARGIN;
    const jobs = await query<CandidateJob>(
      "sched_queue_head",
      `SELECT id, tags, requested_device_id, requested_worker_id FROM test_jobs
       WHERE state = 'Submitted' AND actual_device_id IS NULL AND requested_device_type_id = $1 AND target_group IS NULL
       ORDER BY priority DESC, submit_time ASC, id ASC
       LIMIT $2
       FOR UPDATE SKIP LOCKED`,
      [typeId, limit],
    );
    queues.set(typeId, { jobs, more: jobs.length === limit });
  }

  const taken = new Set<number>();
  const jobIds: number[] = [];
  const deviceIds: number[] = [];
  for (const d of devices) {
    if (d.job_limit > 0 && busy.get(d.worker_id)! >= d.job_limit) continue;
    const q = queues.get(d.device_type_id)!;
    const tags = new Set(d.tags);
    let job = q.jobs.find((j) => !taken.has(j.id) && fits(j, d, tags));
    if (!job && q.more) {
      const rows = await query<CandidateJob>(
        "sched_device_job",
        `SELECT id, tags, requested_device_id, requested_worker_id FROM test_jobs
         WHERE state = 'Submitted' AND actual_device_id IS NULL AND target_group IS NULL
           AND requested_device_type_id = $1
           AND tags <@ $2::text[]
           AND (requested_device_id IS NULL OR requested_device_id = $3)
           AND (requested_worker_id IS NULL OR requested_worker_id = $4)
           AND id <> ALL($5::int[])
         ORDER BY priority DESC, submit_time ASC, id ASC
         LIMIT 1
         FOR UPDATE SKIP LOCKED`,
        [d.device_type_id, d.tags, d.id, d.worker_id, [...taken]],
      );
      job = rows[0];
    }
    if (!job) continue;
    taken.add(job.id);
    jobIds.push(job.id);
    deviceIds.push(d.id);
    if (d.job_limit > 0) busy.set(d.worker_id, busy.get(d.worker_id)! + 1);
    p.effects.wakeWorker(d.worker).jobChanged(job.id);
    logger.info({ jobId: job.id, device: d.hostname, worker: d.worker }, "job scheduled");
  }
  if (!jobIds.length) return 0;
  await query(
    "sched_jobs_scheduled",
    `UPDATE test_jobs j SET state = 'Scheduled', actual_device_id = v.device_id
     FROM unnest($1::int[], $2::int[]) AS v(job_id, device_id)
     WHERE j.id = v.job_id`,
    [jobIds, deviceIds],
  );
  await query(
    "sched_devices_reserved",
    `UPDATE devices d SET state = 'Reserved', current_job_id = v.job_id
     FROM unnest($1::int[], $2::int[]) AS v(job_id, device_id)
     WHERE d.id = v.device_id`,
    [jobIds, deviceIds],
  );
  if (await insertFederationCallbacks(query, jobIds, "Scheduled", p.federation)) p.effects.wakeOutbox();
  return jobIds.length;
}

/**
 * Device types that have at least one device able to take a job now: Idle, on an Online+Active
 * worker, health Good (or Unknown when the type has no enabled health check) — the device filter
 * of {@link scheduleJobs} without the queued-job condition. Read inside the pass's transaction,
 * after its assignments.
 */
export async function idleJobDeviceTypes(query: DirectQuery): Promise<Set<number>> {
  const rows = await query<{ device_type_id: number }>("sched_idle_types", IDLE_DEVICE_TYPES_SQL, []);
  return new Set(rows.map((r) => r.device_type_id));
}

/** The statement of {@link idleJobDeviceTypes}. */
const IDLE_DEVICE_TYPES_SQL = `
    SELECT DISTINCT d.device_type_id
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN device_types dt ON dt.id = d.device_type_id
    WHERE d.state = 'Idle' AND w.state = 'Online' AND w.health = 'Active'
      AND (d.health = 'Good' OR (d.health = 'Unknown' AND (dt.health_check_definition IS NULL OR dt.disable_health_check)))`;
