import type { TDeviceSummary, TDeviceTypeSummary, TInstanceOverview, TWorkerSummary } from "@magma/protocol";
import type { InstanceDb } from "@magma/db/instance";

/** Version string of this instance (`system/version/`). */
export const INSTANCE_VERSION = "2023.01+magma.0";

/** Devices, LAVA `api/v0.2/devices/` items, by hostname. */
export async function listDevices(db: InstanceDb): Promise<TDeviceSummary[]> {
  const rows = await db.device.findMany({ orderBy: { hostname: "asc" }, include: { deviceType: { select: { name: true } }, worker: { select: { hostname: true } } } });
  return rows.map((d) => ({
    hostname: d.hostname,
    device_type: d.deviceType.name,
    description: d.description,
    tags: d.tags,
    state: d.state,
    health: d.health,
    worker_host: d.worker?.hostname ?? null,
    current_job: d.currentJobId,
    last_health_report_job: d.lastHealthReportJobId,
  }));
}

/** Device types, LAVA `api/v0.2/devicetypes/` items, by name. */
export async function listDeviceTypes(db: InstanceDb): Promise<TDeviceTypeSummary[]> {
  const rows = await db.deviceType.findMany({ orderBy: { name: "asc" } });
  return rows.map((t) => ({
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
  const rows = await db.worker.findMany({ orderBy: { hostname: "asc" } });
  return rows.map((w) => ({
    hostname: w.hostname,
    description: w.description,
    state: w.state,
    health: w.health,
    last_ping: w.lastPing?.toISOString() ?? null,
    job_limit: w.jobLimit,
    version: w.version,
  }));
}

/** The frontend's labs overview of this instance (protocol ZInstanceOverview). */
export async function getOverview(db: InstanceDb, name: string): Promise<TInstanceOverview> {
  const [workers, devices, types, counts] = await Promise.all([
    listWorkers(db),
    listDevices(db),
    db.deviceType.findMany({ orderBy: { name: "asc" }, select: { name: true } }),
    db.testJob.groupBy({ by: ["state"], where: { state: { in: ["Submitted", "Scheduled", "Running"] } }, _count: { _all: true } }),
  ]);
  const n = (s: string) => counts.find((c) => c.state === s)?._count._all ?? 0;
  return {
    name,
    version: INSTANCE_VERSION,
    workers: workers.map((w) => ({ hostname: w.hostname, state: w.state, health: w.health, last_ping: w.last_ping })),
    devices: devices.map((d) => ({ hostname: d.hostname, device_type: d.device_type, state: d.state, health: d.health, worker_host: d.worker_host, current_job: d.current_job })),
    device_types: types.map((t) => t.name),
    queue: { submitted: n("Submitted"), scheduled: n("Scheduled"), running: n("Running") },
  };
}
