import type { TVisibility } from "@magma/protocol";
import { Prisma } from "../../generated/instance/client";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TInstanceViewer, TJobRecord } from "../dto.ts";

/**
 * THE access policy of an instance's jobs (and, in {@link canAdminister}, of its administration) — every surface that shows a job, its logs, results,
 * exports, events or federation data goes through this module, either as the SQL condition the
 * repositories put into their queries ({@link visibleJobsCondition}) or as the per-job check
 * ({@link canViewJob}): REST list/detail/logs/results/exports, XML-RPC, the events stream, the
 * reconciliation feed, cancel/resubmit. It copies LAVA 2023.01's `TestJob.can_view`:
 * - `public`: everyone, anonymous included;
 * - `personal`: the submitter and superusers;
 * - `{group: [a, b]}`: the submitter, superusers and users who are members of EVERY listed group
 *   (LAVA's `viewing_groups`: "the user must belong to all the specified groups").
 * Stored form (`test_jobs.visibility`): `public`, `personal` or `group:<a>,<b>`.
 * Who the caller is (token → user) is the instance's business (apps/instance auth); this module
 * only gets the resulting {@link TInstanceViewer} or null for anonymous.
 */

/** Stored `visibility` of a definition's `visibility:` value. */
export function storedVisibility(v: TVisibility): string {
  return typeof v === "string" ? v : `group:${v.group.join(",")}`;
}

/** The wire form (`public` | `personal` | `{group: [..]}`, protocol `ZVisibility`) of a stored visibility. */
export function wireVisibility(stored: string): TVisibility {
  if (stored === "public" || stored === "personal") return stored;
  if (stored.startsWith("group:")) return { group: stored.slice("group:".length).split(",").filter(Boolean) };
  // an unknown stored value is treated as the most private one
  return "personal";
}

/**
 * SQL condition "job row `alias` is visible to `viewer`" for list queries (`TRUE` for superusers).
 * Group membership is read in the same statement (no extra round trip).
 */
export function visibleJobsCondition(viewer: TInstanceViewer | null, alias = "j"): Prisma.Sql {
  if (viewer?.isSuperuser) return Prisma.sql`TRUE`;
  const a = Prisma.raw(alias);
  if (!viewer) return Prisma.sql`${a}.visibility = 'public'`;
  return Prisma.sql`(${a}.visibility = 'public' OR ${a}.submitter_id = ${viewer.id}
    OR (${a}.visibility LIKE 'group:%' AND NOT EXISTS (
      SELECT 1 FROM unnest(string_to_array(substr(${a}.visibility, 7), ',')) AS wanted(name)
      WHERE wanted.name NOT IN (SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = ${viewer.id}))))`;
}

/** Names of the groups `userId` belongs to. */
export async function groupNamesOf(db: InstanceDb | InstanceTx, userId: number): Promise<Set<string>> {
  const rows = await db.groupMembership.findMany({ where: { userId }, select: { group: { select: { name: true } } } });
  return new Set(rows.map((r) => r.group.name));
}

/**
 * May `viewer` (null = anonymous) see this job? Reads the viewer's groups only for a group job the
 * viewer did not submit.
 */
export async function canViewJob(
  db: InstanceDb | InstanceTx,
  job: Pick<TJobRecord, "visibility" | "submitterId">,
  viewer: TInstanceViewer | null,
): Promise<boolean> {
  if (job.visibility === "public") return true;
  if (!viewer) return false;
  if (viewer.isSuperuser || viewer.id === job.submitterId) return true;
  const v = wireVisibility(job.visibility);
  if (typeof v === "string") return false;
  const mine = await groupNamesOf(db, viewer.id);
  return v.group.every((g) => mine.has(g));
}

/**
 * May `viewer` administer the lab (devices, device types and their dictionaries and health checks,
 * workers, tags)? Superusers only, as LAVA's admin methods (`is_superuser`); null (anonymous) never.
 */
export function canAdminister(viewer: TInstanceViewer | null): boolean {
  return viewer?.isSuperuser === true;
}

/** May `viewer` change (cancel) this job? The submitter and superusers (LAVA's `can_change`). */
export function canChangeJob(job: Pick<TJobRecord, "submitterId">, viewer: TInstanceViewer): boolean {
  return viewer.isSuperuser || viewer.id === job.submitterId;
}

/** The subset of `jobIds` that `viewer` may see, in one query (events stream). */
export async function visibleJobIds(db: InstanceDb | InstanceTx, jobIds: number[], viewer: TInstanceViewer | null): Promise<Set<number>> {
  if (!jobIds.length) return new Set();
  const rows = await db.$queryRaw<
    { id: number }[]
  >`SELECT j.id FROM test_jobs j WHERE j.id = ANY(${jobIds}::int[]) AND ${visibleJobsCondition(viewer)}`;
  return new Set(rows.map((r) => r.id));
}
