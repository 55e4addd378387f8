import { markStaleWorkersOffline, type InstanceDb } from "@magma/db/instance";
import type { Logger } from "../logger.ts";

/**
 * LAVA's `check_workers`: Online workers whose last ping is older than `offlineAfterMs` (LAVA: 60 s)
 * go Offline; their devices are then not scheduled. Running jobs are left alone (as LAVA).
 * @returns hostnames set Offline
 */
export async function checkWorkers(db: InstanceDb, offlineAfterMs: number, logger: Logger): Promise<string[]> {
  const names = await markStaleWorkersOffline(db, new Date(Date.now() - offlineAfterMs));
  for (const n of names) logger.warn({ worker: n, offlineAfterMs }, "worker missed its pings: Offline");
  return names;
}
