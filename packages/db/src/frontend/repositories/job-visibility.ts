import { Prisma } from "../../generated/frontend/client";
import type { TViewer } from "../dto.ts";

/**
 * THE read policy of federated jobs — every surface that shows a job, its results, its log or a
 * count that includes it goes through one of the two renderings below (raw SQL for the keyset and
 * aggregate queries, a Prisma `where` for the ORM reads). Both encode the same rule, LAVA's
 * `TestJob.can_view` as each lab applies it:
 *
 *  - `public`   → everyone, also anonymous visitors;
 *  - `personal` → the submitter (same user name on the frontend as on the lab) and superusers;
 *  - `group`    → members of any group in `visibility_groups` and superusers.
 *
 * Anything else (a value this frontend does not know) is shown to superusers only.
 */
export type TJobVisibility = "public" | "personal" | "group";

/** Condition over `federated_job j` that keeps only the jobs `viewer` may read. */
export function visibleJobsSql(viewer: TViewer | null): Prisma.Sql {
  if (viewer?.isSuperuser) return Prisma.sql`TRUE`;
  if (!viewer) return Prisma.sql`j.visibility = 'public'`;
  const groups = viewer.groups.length
    ? Prisma.sql` OR (j.visibility = 'group' AND j.visibility_groups && ${viewer.groups}::text[])`
    : Prisma.empty;
  return Prisma.sql`(j.visibility = 'public' OR (j.visibility = 'personal' AND j.submitter = ${viewer.username})${groups})`;
}

/** The same rule as {@link visibleJobsSql}, as a Prisma `where` on FederatedJob. */
export function visibleJobsWhere(viewer: TViewer | null): Prisma.FederatedJobWhereInput {
  if (viewer?.isSuperuser) return {};
  if (!viewer) return { visibility: "public" };
  return {
    OR: [
      { visibility: "public" },
      { visibility: "personal", submitter: viewer.username },
      ...(viewer.groups.length ? [{ visibility: "group", visibility_groups: { hasSome: viewer.groups } }] : []),
    ],
  };
}
