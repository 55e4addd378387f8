import type { TDeviceHealth, TDeviceState, TJobState, TWorkerHealth, TWorkerState } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TDeviceRecord, TDeviceTypeRecord, TWorkerRecord } from "../dto.ts";

/** A device row (with its type's name and its worker's hostname) as a {@link TDeviceRecord}. */
export function toDeviceRecord(d: {
  hostname: string;
  deviceType: { name: string };
  description: string | null;
  tags: string[];
  state: string;
  health: string;
  worker: { hostname: string } | null;
  currentJobId: number | null;
  lastHealthReportJobId: number | null;
}): TDeviceRecord {
  return {
    hostname: d.hostname,
    deviceType: d.deviceType.name,
    description: d.description,
    tags: d.tags,
    state: d.state as TDeviceState,
    health: d.health as TDeviceHealth,
    worker: d.worker?.hostname ?? null,
    currentJobId: d.currentJobId,
    lastHealthReportJobId: d.lastHealthReportJobId,
  };
}

/** A worker row as a {@link TWorkerRecord} (never its token). */
export function toWorkerRecord(w: {
  hostname: string;
  description: string | null;
  state: string;
  health: string;
  lastPing: Date | null;
  jobLimit: number;
  version: string | null;
}): TWorkerRecord {
  return {
    hostname: w.hostname,
    description: w.description,
    state: w.state as TWorkerState,
    health: w.health as TWorkerHealth,
    lastPing: w.lastPing,
    jobLimit: w.jobLimit,
    version: w.version,
  };
}

/** Devices by hostname, with their type's and worker's names. */
export async function listDeviceRecords(db: InstanceDb | InstanceTx): Promise<TDeviceRecord[]> {
  const rows = await db.device.findMany({
    orderBy: { hostname: "asc" },
    include: { deviceType: { select: { name: true } }, worker: { select: { hostname: true } } },
  });
  return rows.map(toDeviceRecord);
}

/** Device types by name (without their dictionaries and health checks). */
export async function listDeviceTypeRecords(db: InstanceDb | InstanceTx): Promise<TDeviceTypeRecord[]> {
  const rows = await db.deviceType.findMany({ orderBy: { name: "asc" } });
  return rows.map((t) => ({
    name: t.name,
    description: t.description,
    display: t.display,
    healthFrequency: t.healthFrequency,
    healthDenominator: t.healthDenominator,
    disableHealthCheck: t.disableHealthCheck,
  }));
}

/** Workers by hostname, never their token. */
export async function listWorkerRecords(db: InstanceDb | InstanceTx): Promise<TWorkerRecord[]> {
  const rows = await db.worker.findMany({ orderBy: { hostname: "asc" } });
  return rows.map(toWorkerRecord);
}

/**
 * Queue depth per device type: the number of Submitted jobs waiting for a device of each type, by
 * device type name (types with no queued job are absent).
 */
export async function countQueuedJobsByDeviceType(db: InstanceDb | InstanceTx): Promise<Record<string, number>> {
  const rows = await db.$queryRaw<{ name: string; n: number }[]>`
    SELECT dt.name, count(*)::int AS n FROM test_jobs j JOIN device_types dt ON dt.id = j.requested_device_type_id
    WHERE j.state = 'Submitted' GROUP BY dt.name`;
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

/** Number of jobs in each of `states` (0 for a state with none). */
export async function countJobsByState(db: InstanceDb | InstanceTx, states: TJobState[]): Promise<Record<string, number>> {
  const counts = await db.testJob.groupBy({ by: ["state"], where: { state: { in: states } }, _count: { _all: true } });
  return Object.fromEntries(states.map((s) => [s, counts.find((c) => c.state === s)?._count._all ?? 0]));
}
