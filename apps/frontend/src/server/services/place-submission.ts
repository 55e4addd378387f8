import type { TInstanceRecord } from "@magma/db/frontend";
import type { TInstanceOverview } from "@magma/protocol";
import { describeFetchError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";

/** Device health values that let a device take a normal job (Unknown: a type without health check). */
const USABLE_HEALTH = new Set(["Good", "Unknown"]);

/** One lab able to run a device type, with what placement compares. */
export interface TLabCandidate {
  instance: TInstanceRecord;
  /** devices of the type that are Idle with a usable health (Good/Unknown) */
  idle: number;
  /** Submitted jobs waiting for the type (the whole queue when the lab does not break it down) */
  queue: number;
}

/** Why a lab was not a candidate (unreachable, or without the device type). */
export interface TLabRefusal {
  lab: string;
  reason: string;
}

/** Idle devices and queue depth of one device type in a lab's overview. */
export function deviceTypeLoad(o: TInstanceOverview, deviceType: string): { idle: number; queue: number } {
  const idle = o.devices.filter((d) => d.device_type === deviceType && d.state === "Idle" && USABLE_HEALTH.has(d.health)).length;
  const queue = o.queue_by_device_type?.[deviceType] ?? o.queue.submitted;
  return { idle, queue };
}

/**
 * Orders candidates by the placement policy of `labs: "any"`: a lab with an idle device of the type
 * first (more idle devices first), then the shortest queue for the type, then the lab name (stable).
 */
export function comparePlacement(a: TLabCandidate, b: TLabCandidate): number {
  const ai = a.idle > 0 ? 1 : 0;
  const bi = b.idle > 0 ? 1 : 0;
  if (ai !== bi) return bi - ai;
  if (ai && a.idle !== b.idle) return b.idle - a.idle;
  if (a.queue !== b.queue) return a.queue - b.queue;
  return a.instance.name.localeCompare(b.instance.name);
}

export interface RankLabsOptions {
  labs: TInstanceRecord[];
  deviceType: string;
  /** Deadline of each lab's overview request, in ms (labs are asked in parallel). */
  timeoutMs: number;
}

/**
 * Asks each lab for its overview (the labs page's data) and ranks those offering `deviceType` by
 * {@link comparePlacement}; an unreachable lab or one without the type is listed in `refused` with
 * the reason, never thrown.
 */
export async function rankLabsForDeviceType({
  labs,
  deviceType,
  timeoutMs,
}: RankLabsOptions): Promise<{ ranked: TLabCandidate[]; refused: TLabRefusal[] }> {
  const refused: TLabRefusal[] = [];
  const found = await Promise.all(
    labs.map(async (instance): Promise<TLabCandidate | null> => {
      let o: TInstanceOverview;
      const reachable = reachableLab(instance);
      if (!reachable) {
        // an outbound-only lab is never called: its devices are not known here
        refused.push({ lab: instance.name, reason: "outbound-only (its devices cannot be asked)" });
        return null;
      }
      try {
        o = await labClientFor(reachable).overview(timeoutMs);
      } catch (e) {
        refused.push({ lab: instance.name, reason: `unreachable (${describeFetchError(e, timeoutMs)})` });
        return null;
      }
      if (!o.device_types.includes(deviceType)) {
        refused.push({ lab: instance.name, reason: `no device type "${deviceType}"` });
        return null;
      }
      return { instance, ...deviceTypeLoad(o, deviceType) };
    }),
  );
  refused.sort((a, b) => a.lab.localeCompare(b.lab));
  return { ranked: found.filter((c): c is TLabCandidate => c !== null).sort(comparePlacement), refused };
}
