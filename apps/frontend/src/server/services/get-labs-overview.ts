import { listInstances, type FrontendDb, type TLabKind } from "@magma/db/frontend";
import type { TInstanceOverview } from "@magma/protocol";
import { describeFetchError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";
import { summariseLab, type TLabMode } from "./labs.ts";

/** One lab on the labs page: reachability plus summarised counts (no secrets). */
export interface TLabOverview {
  name: string;
  kind: TLabKind;
  /** null for an outbound-only lab */
  url: string | null;
  /** `inbound`: the frontend calls the lab at `url`; `outbound`: the lab connects to the frontend */
  mode: TLabMode;
  /** outbound labs: connected / disconnected / awaiting enrollment; inbound: configured */
  status: string;
  /** last time the lab was heard from (callback or link), ISO, or null */
  lastContactAt: string | null;
  /** inbound: answered the overview request; outbound: connected */
  reachable: boolean;
  /** Whether the lab signs its callbacks (a callback secret is configured); false: token only. */
  signedCallbacks: boolean;
  error: string | null;
  checkedAt: string;
  version: string | null;
  workers: { online: number; total: number };
  devices: { total: number; byState: Record<string, number>; byHealth: Record<string, number> };
  deviceTypes: string[];
  queue: TInstanceOverview["queue"] | null;
  /** Submitted jobs per device type, when the lab reports it */
  queueByDeviceType: Record<string, number> | null;
  deviceList: TInstanceOverview["devices"];
  /** The lab's workers by name with state and health (empty when unreachable). */
  workerList: TInstanceOverview["workers"];
}

const countBy = <T>(items: T[], key: (t: T) => string) =>
  items.reduce<Record<string, number>>((acc, t) => ((acc[key(t)] = (acc[key(t)] ?? 0) + 1), acc), {});

/** What the page shows of a lab it could not ask (unreachable, or outbound-only): nothing known. */
const NOTHING_KNOWN = {
  version: null,
  workers: { online: 0, total: 0 },
  devices: { total: 0, byState: {}, byHealth: {} },
  deviceTypes: [],
  queue: null,
  queueByDeviceType: null,
  deviceList: [],
  workerList: [],
} as const satisfies Partial<TLabOverview>;

export interface GetLabsOverviewOptions {
  db: FrontendDb;
  /** Deadline of each lab's request, in ms; labs are asked in parallel. */
  timeoutMs: number;
}

/**
 * Asks every inbound lab for its overview in parallel; an unreachable lab is reported, never thrown.
 * Outbound-only labs are never called: they are shown connected/disconnected from their last contact.
 */
export async function getLabsOverview({ db, timeoutMs }: GetLabsOverviewOptions): Promise<TLabOverview[]> {
  const labs = await listInstances(db);
  return Promise.all(
    labs.map(async (lab): Promise<TLabOverview> => {
      const s = summariseLab(lab);
      const base = {
        name: lab.name,
        kind: lab.kind,
        url: lab.url,
        mode: s.mode,
        status: s.status,
        lastContactAt: lab.lastContactAt,
        checkedAt: new Date().toISOString(),
        signedCallbacks: lab.callbackSecret !== null,
      };
      const reachable = reachableLab(lab);
      try {
        if (!reachable) {
          const connected = s.status === "connected";
          return {
            ...base,
            reachable: connected,
            error: connected ? null : `outbound lab ${s.status}${lab.lastContactAt ? ` (last contact ${lab.lastContactAt})` : ""}`,
            ...NOTHING_KNOWN,
          };
        }
        const o = await labClientFor(reachable).overview(timeoutMs);
        return {
          ...base,
          reachable: true,
          error: null,
          version: o.version,
          workers: { online: o.workers.filter((w) => w.state === "Online").length, total: o.workers.length },
          devices: { total: o.devices.length, byState: countBy(o.devices, (d) => d.state), byHealth: countBy(o.devices, (d) => d.health) },
          deviceTypes: [...o.device_types].sort(),
          queue: o.queue,
          queueByDeviceType: o.queue_by_device_type ?? null,
          deviceList: o.devices,
          workerList: o.workers,
        };
      } catch (e) {
        return {
          ...base,
          reachable: false,
          error: describeFetchError(e, timeoutMs),
          ...NOTHING_KNOWN,
        };
      }
    }),
  );
}
