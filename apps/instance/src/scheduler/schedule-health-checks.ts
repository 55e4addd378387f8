import { parseJobDefinition } from "@magma/protocol";
import type { TransitionContext } from "../jobs/job-transitions.ts";
import { normaliseDefinition, randomToken } from "../jobs/submit-job.ts";
import { storedVisibility, txQuery, type DirectQuery } from "@magma/db/instance";
import type { Logger } from "../logger.ts";
import { enqueueFederationCallbacks } from "../notify/enqueue-callbacks.ts";

/** Submitter of health checks, as in LAVA. */
export const HEALTH_CHECK_USER = "lava-health";

export interface CandidateRow {
  id: number;
  hostname: string;
  health: string;
  last_health_report_job_id: number | null;
  worker: string;
  device_type_id: number;
  health_check_definition: string;
  health_frequency: number;
  health_denominator: "hours" | "jobs";
}

/** Devices that may need a health check, locked (the first query of {@link scheduleHealthChecks}). */
export const HEALTH_CHECK_CANDIDATES_SQL = `
    SELECT d.id, d.hostname, d.health::text AS health, d.last_health_report_job_id, w.hostname AS worker,
           dt.id AS device_type_id, dt.health_check_definition, dt.health_frequency, dt.health_denominator::text AS health_denominator
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN device_types dt ON dt.id = d.device_type_id
    WHERE d.state = 'Idle' AND d.health IN ('Good', 'Unknown', 'Looping')
      AND w.state = 'Online' AND w.health = 'Active'
      AND dt.health_check_definition IS NOT NULL AND NOT dt.disable_health_check
    ORDER BY dt.name, d.hostname
    FOR UPDATE OF d SKIP LOCKED`;

/**
 * First half of LAVA's `schedule()` (`schedule_health_checks`): for every Idle device on an
 * Online+Active worker, with health Good/Unknown/Looping, whose device type has an enabled health
 * check, decide whether one is due — health Unknown or Looping, never ran one, or the last one is
 * older than `health_frequency` hours / more than `health_frequency` jobs ago — and if so create the
 * health-check job (submitter `lava-health`, `health_check` true) directly in Scheduled on that device
 * (never queued). A health check whose YAML does not validate sets the device Bad, as LAVA.
 * Devices are locked `FOR UPDATE SKIP LOCKED`, so overlapping passes never double-book a device.
 * @returns the number of health checks scheduled
 */
export async function scheduleHealthChecks(t: TransitionContext, logger: Logger): Promise<number> {
  const { tx } = t;
  const rows = await tx.$queryRawUnsafe<CandidateRow[]>(HEALTH_CHECK_CANDIDATES_SQL);
  const query = txQuery(tx);
  let scheduled = 0;
  for (const d of rows) {
    if (!(await healthCheckDue(query, d))) continue;
    const parsed = parseJobDefinition(d.health_check_definition);
    if (!parsed.ok) {
      logger.error({ device: d.hostname, errors: parsed.errors }, "health check definition is invalid: device set Bad");
      await tx.device.update({ where: { id: d.id }, data: { health: "Bad" } });
      continue;
    }
    const user = await tx.user.upsert({ where: { username: HEALTH_CHECK_USER }, create: { username: HEALTH_CHECK_USER }, update: {} });
    const def = parsed.definition;
    const job = await tx.testJob.create({
      data: {
        submitterId: user.id,
        description: def.job_name,
        requestedDeviceTypeId: d.device_type_id,
        tags: def.tags ?? [],
        priority: def.priority ?? 50,
        visibility: storedVisibility(def.visibility),
        metadata: def.metadata ?? {},
        notify: (def.notify as object | undefined) ?? undefined,
        definition: normaliseDefinition(parsed.raw),
        originalDefinition: d.health_check_definition,
        tokenNonce: randomToken(),
        healthCheck: true,
        state: "Scheduled",
        actualDeviceId: d.id,
      },
    });
    await tx.device.update({ where: { id: d.id }, data: { state: "Reserved", currentJobId: job.id } });
    if (await enqueueFederationCallbacks(tx, [job.id], "Scheduled", t.federation)) t.effects.wakeOutbox();
    t.effects.wakeWorker(d.worker).jobChanged(job.id);
    logger.info({ jobId: job.id, device: d.hostname, worker: d.worker }, "health check scheduled");
    scheduled++;
  }
  return scheduled;
}

/**
 * Whether candidate `d` is due a health check: health Unknown or Looping, never ran one, or its last
 * one is older than `health_frequency` hours / more than `health_frequency` non-health-check jobs ago.
 * @param query runs one statement (Prisma's transaction, or a `pg` connection: directTransaction)
 */
export async function healthCheckDue(query: DirectQuery, d: CandidateRow): Promise<boolean> {
  if (d.health === "Unknown" || d.health === "Looping") return true;
  if (d.last_health_report_job_id === null) return true;
  const [last] = await query<{ submit_time: Date; start_time: Date | null }>(
    "hc_last_report",
    "SELECT submit_time, start_time FROM test_jobs WHERE id = $1",
    [d.last_health_report_job_id],
  );
  if (!last) return true;
  if (d.health_denominator === "hours") {
    return last.submit_time.getTime() + d.health_frequency * 3_600_000 < Date.now();
  }
  const [since] = await query<{ n: number }>(
    "hc_jobs_since",
    "SELECT count(*)::int AS n FROM test_jobs WHERE actual_device_id = $1 AND NOT health_check AND start_time > $2::timestamptz",
    [d.id, last.start_time ?? last.submit_time],
  );
  return since!.n >= d.health_frequency;
}
