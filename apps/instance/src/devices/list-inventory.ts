import type { TDeviceSummary, TDeviceTypeSummary, TInstanceOverview, TWorkerSummary } from "@magma/protocol";
import {
  countJobsByState,
  countQueuedJobsByDeviceType,
  listDeviceRecords,
  listDeviceTypeRecords,
  listWorkerRecords,
  type InstanceDb,
} from "@magma/db/instance";

/** Version string of this instance (`system/version/`). */
export const INSTANCE_VERSION = "2023.01+magma.0";

/** Devices, LAVA `api/v0.2/devices/` items, by hostname. */
export async function listDevices(db: InstanceDb): Promise<TDeviceSummary[]> {
  return (await listDeviceRecords(db)).map((d) => ({
    hostname: d.hostname,
    device_type: d.deviceType,
    description: d.description,
    tags: d.tags,
    state: d.state,
    health: d.health,
    worker_host: d.worker,
    current_job: d.currentJobId,
    last_health_report_job: d.lastHealthReportJobId,
  }));
}

/** Device types, LAVA `api/v0.2/devicetypes/` items, by name. */
export async function listDeviceTypes(db: InstanceDb): Promise<TDeviceTypeSummary[]> {
  return (await listDeviceTypeRecords(db)).map((t) => ({
    name: t.name,
    description: t.description,
    display: t.display,
    health_frequency: t.healthFrequency,
    health_denominator: t.healthDenominator,
    disable_health_check: t.disableHealthCheck,
  }));
}

/** Workers, LAVA `api/v0.2/workers/` items without the token, by hostname. */
export async function listWorkers(db: InstanceDb): Promise<TWorkerSummary[]> {
  return (await listWorkerRecords(db)).map((w) => ({
    hostname: w.hostname,
    description: w.description,
    state: w.state,
    health: w.health,
    last_ping: w.lastPing?.toISOString() ?? null,
    job_limit: w.jobLimit,
    version: w.version,
  }));
}

/** The frontend's labs overview of this instance (protocol ZInstanceOverview), with the Submitted jobs per device type (placement of `labs: "any"`). */
export async function getOverview(db: InstanceDb, name: string): Promise<TInstanceOverview> {
  const [workers, devices, types, counts, queued] = await Promise.all([
    listWorkers(db),
    listDevices(db),
    listDeviceTypeRecords(db),
    countJobsByState(db, ["Submitted", "Scheduled", "Running"]),
    countQueuedJobsByDeviceType(db),
  ]);
  return {
    name,
    version: INSTANCE_VERSION,
    workers: workers.map((w) => ({ hostname: w.hostname, state: w.state, health: w.health, last_ping: w.last_ping })),
    devices: devices.map((d) => ({
      hostname: d.hostname,
      device_type: d.device_type,
      state: d.state,
      health: d.health,
      worker_host: d.worker_host,
      current_job: d.current_job,
    })),
    device_types: types.map((t) => t.name),
    queue: { submitted: counts["Submitted"] ?? 0, scheduled: counts["Scheduled"] ?? 0, running: counts["Running"] ?? 0 },
    queue_by_device_type: Object.fromEntries(types.map((t) => [t.name, queued[t.name] ?? 0])),
  };
}
