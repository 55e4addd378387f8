import {
  infraErrorCounts,
  infraErrorHistory,
  labLastContacts,
  type FrontendDb,
  type TInfraCount,
  type TInfraHistoryRow,
  type TViewer,
} from "@magma/db/frontend";
import type { TLabHealthBoard, TLabHealthBucket, TLabHealthRate } from "@magma/protocol";
import { getLabsOverview, type TLabOverview } from "./get-labs-overview.ts";

/** Days of infrastructure-error history on the board, and the width of one history bucket. */
export const HEALTH_HISTORY_DAYS = 7;
export const HEALTH_HISTORY_BUCKET_HOURS = 6;

const rate = (c: TInfraCount): TLabHealthRate => ({
  finished: c.finished,
  infrastructure: c.infrastructure,
  rate: c.finished ? c.infrastructure / c.finished : null,
});
const add = (a: TInfraCount, b: TInfraCount): TInfraCount => ({
  finished: a.finished + b.finished,
  infrastructure: a.infrastructure + b.infrastructure,
});
const ZERO: TInfraCount = { finished: 0, infrastructure: 0 };

/** History rows summed per bucket (over labs or device types), oldest bucket first. */
export function sumHistory(rows: TInfraHistoryRow[]): TLabHealthBucket[] {
  const byBucket = new Map<string, TInfraCount>();
  for (const r of rows) byBucket.set(r.bucket, add(byBucket.get(r.bucket) ?? ZERO, r));
  return [...byBucket]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bucket, c]) => ({ bucket, finished: c.finished, infrastructure: c.infrastructure, rate: c.infrastructure / c.finished }));
}

/** The board's status word of a lab: reachable/unreachable (inbound), its link status (outbound). */
function boardStatus(o: TLabOverview): string {
  if (o.mode === "outbound") return o.status;
  return o.reachable ? "reachable" : "unreachable";
}

export interface GetLabHealthOptions {
  db: FrontendDb;
  /** who asks: only jobs they may read are counted in the error rates */
  viewer: TViewer | null;
  /** deadline of each lab's overview request, ms (labs are asked in parallel) */
  timeoutMs: number;
  now?: Date;
}

/**
 * The lab health board (issue 13 item 7), protocol ZLabHealthBoard:
 * - per lab: its mode and status (an inbound lab is reachable when its overview answered, an
 *   outbound-only lab connected when heard from recently), the error otherwise, last contact, workers online
 *   and offline by name, devices with health Bad and in Maintenance by name, the infrastructure-error
 *   rate (finished jobs that ended with error_type Infrastructure / finished jobs, by end time) over
 *   the last 24 h and 7 days, and its history in {@link HEALTH_HISTORY_BUCKET_HOURS}-hour buckets
 *   over {@link HEALTH_HISTORY_DAYS} days;
 * - per device type across labs: the labs offering it, devices total / Bad / Maintenance, the
 *   same two rates and the same history, summed over labs.
 * A rate is null when no job finished in the window. Jobs count only when `viewer` may read them.
 * Never throws for an unreachable lab (it is reported).
 */
export async function getLabHealth({ db, viewer, timeoutMs, now = new Date() }: GetLabHealthOptions): Promise<TLabHealthBoard> {
  const [overviews, counts, history, contacts] = await Promise.all([
    getLabsOverview({ db, timeoutMs }),
    infraErrorCounts(db, viewer, now),
    infraErrorHistory(db, viewer, now, HEALTH_HISTORY_DAYS, HEALTH_HISTORY_BUCKET_HOURS),
    labLastContacts(db),
  ]);
  const labs = overviews.map((o) => {
    const mine = counts.filter((c) => c.lab === o.name);
    const workers = o.workerList;
    return {
      name: o.name,
      mode: o.mode,
      status: boardStatus(o),
      reachable: o.reachable,
      error: o.error,
      lastContactAt: contacts.get(o.name)?.toISOString() ?? null,
      workersOnline: workers
        .filter((w) => w.state === "Online")
        .map((w) => w.hostname)
        .sort(),
      workersOffline: workers
        .filter((w) => w.state !== "Online")
        .map((w) => w.hostname)
        .sort(),
      devicesBad: o.deviceList
        .filter((d) => d.health === "Bad")
        .map((d) => d.hostname)
        .sort(),
      devicesMaintenance: o.deviceList
        .filter((d) => d.health === "Maintenance")
        .map((d) => d.hostname)
        .sort(),
      infra24h: rate(mine.reduce((s, c) => add(s, c.day), ZERO)),
      infra7d: rate(mine.reduce((s, c) => add(s, c.week), ZERO)),
      history: sumHistory(history.filter((h) => h.lab === o.name)),
    };
  });
  const types = new Set<string>([...counts.map((c) => c.deviceType), ...overviews.flatMap((o) => o.deviceList.map((d) => d.device_type))]);
  const deviceTypes = [...types].sort().map((t) => {
    const devices = overviews.flatMap((o) => o.deviceList.filter((d) => d.device_type === t));
    const mine = counts.filter((c) => c.deviceType === t);
    return {
      deviceType: t,
      labs: overviews.filter((o) => o.deviceList.some((d) => d.device_type === t)).map((o) => o.name),
      devices: {
        total: devices.length,
        bad: devices.filter((d) => d.health === "Bad").length,
        maintenance: devices.filter((d) => d.health === "Maintenance").length,
      },
      infra24h: rate(mine.reduce((s, c) => add(s, c.day), ZERO)),
      infra7d: rate(mine.reduce((s, c) => add(s, c.week), ZERO)),
      history: sumHistory(history.filter((h) => h.deviceType === t)),
    };
  });
  return {
    checkedAt: now.toISOString(),
    historyBucketHours: HEALTH_HISTORY_BUCKET_HOURS,
    labs,
    deviceTypes,
  };
}
