import { buildFromMetadata, type TBuildKeys } from "@magma/protocol";
import { linkJobToBuild, listJobsWithoutBuild, type FrontendDb } from "@magma/db/frontend";
import type { Logger } from "pino";

export interface BackfillBuildsOptions {
  db: FrontendDb;
  log: Logger;
  /** Metadata keys naming a build (MAGMA_BUILD_METADATA_KEYS). */
  keys: TBuildKeys;
  /** Jobs read per batch (default 500). */
  batch?: number;
}

/**
 * Links every stored job that has no build yet but whose metadata names one (jobs ingested before
 * builds existed, or before MAGMA_BUILD_METADATA_KEYS changed) and computes their statuses and
 * regressions, oldest job first. Run once at startup, next to the consumers (same locks as ingest).
 * Jobs without build metadata are read and skipped: the cost is one pass over them.
 * @returns jobs scanned, jobs linked and regressions/fixes (re)computed
 */
export async function backfillBuilds({
  db,
  log,
  keys,
  batch = 500,
}: BackfillBuildsOptions): Promise<{ scanned: number; linked: number; transitions: number }> {
  let after = 0;
  let scanned = 0;
  let linked = 0;
  let transitions = 0;
  for (;;) {
    const jobs = await listJobsWithoutBuild(db, after, batch);
    if (!jobs.length) break;
    for (const job of jobs) {
      const build = buildFromMetadata(job.metadata, keys);
      if (!build) continue;
      const r = await linkJobToBuild(db, job, build);
      linked++;
      transitions += r.transitions;
    }
    scanned += jobs.length;
    after = jobs[jobs.length - 1]!.id;
  }
  if (linked) log.info({ scanned, linked, transitions }, "linked stored jobs to their builds");
  return { scanned, linked, transitions };
}
