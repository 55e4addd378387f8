import type { FrontendDb } from "@magma/db/frontend";
import type { TDeviceTypeAvailability } from "@magma/protocol";
import { getLabsOverview, type TLabOverview } from "./get-labs-overview.ts";

const BAD_HEALTH = new Set(["Bad", "Maintenance", "Retired"]);
const BUSY_STATE = new Set(["Reserved", "Running"]);

/**
 * Rolls the labs' overviews up per device type: for each type a reachable lab offers, its devices
 * that are idle (Idle, health Good/Unknown), busy (Reserved/Running) and bad (health Bad,
 * Maintenance or Retired), and the jobs queued for it (the lab's per-type queue; a lab that does
 * not break its queue down counts its whole Submitted queue), summed and per lab. Types and labs
 * are sorted by name; unreachable labs are listed apart.
 */
export function rollUpDeviceTypes(labs: TLabOverview[], checkedAt = new Date()): TDeviceTypeAvailability {
  const byType = new Map<string, TDeviceTypeAvailability["results"][number]>();
  for (const lab of labs.filter((l) => l.reachable)) {
    for (const type of lab.deviceTypes) {
      const devices = lab.deviceList.filter((d) => d.device_type === type);
      const load = {
        lab: lab.name,
        idle: devices.filter((d) => d.state === "Idle" && !BAD_HEALTH.has(d.health) && d.health !== "Looping").length,
        busy: devices.filter((d) => BUSY_STATE.has(d.state)).length,
        bad: devices.filter((d) => BAD_HEALTH.has(d.health)).length,
        queue: lab.queueByDeviceType?.[type] ?? lab.queue?.submitted ?? 0,
      };
      const row = byType.get(type) ?? { device_type: type, idle: 0, busy: 0, bad: 0, queue: 0, labs: [] };
      row.idle += load.idle;
      row.busy += load.busy;
      row.bad += load.bad;
      row.queue += load.queue;
      row.labs.push(load);
      byType.set(type, row);
    }
  }
  const results = [...byType.values()].sort((a, b) => a.device_type.localeCompare(b.device_type));
  for (const r of results) r.labs.sort((a, b) => a.lab.localeCompare(b.lab));
  return {
    results,
    unreachable: labs
      .filter((l) => !l.reachable)
      .map((l) => l.name)
      .sort(),
    checked_at: checkedAt.toISOString(),
  };
}

export interface GetDeviceTypeAvailabilityOptions {
  db: FrontendDb;
  /** Deadline of each lab's overview request, in ms. */
  timeoutMs: number;
}

/** Asks every lab for its overview (in parallel) and rolls it up per device type ({@link rollUpDeviceTypes}). */
export async function getDeviceTypeAvailability({ db, timeoutMs }: GetDeviceTypeAvailabilityOptions): Promise<TDeviceTypeAvailability> {
  return rollUpDeviceTypes(await getLabsOverview({ db, timeoutMs }));
}
