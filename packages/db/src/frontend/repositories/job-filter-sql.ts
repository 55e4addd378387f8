import { Prisma } from "../../generated/frontend/client";
import type { TJobListFilter, TViewer } from "../dto.ts";
import { visibleJobsSql } from "./job-visibility.ts";

/** Escapes LIKE wildcards so a job-name filter is a plain substring match. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * SQL conditions for a job filter over `federated_job j JOIN instance i`, ANDed, always starting
 * with the viewer's read policy ({@link visibleJobsSql}): no caller can list, count or aggregate
 * jobs without it. Metadata uses JSONB containment (`@>`) so the GIN jsonb_path_ops index serves it.
 */
export function jobFilterSql(f: TJobListFilter, viewer: TViewer | null): Prisma.Sql {
  const c: Prisma.Sql[] = [visibleJobsSql(viewer)];
  if (f.lab) c.push(Prisma.sql`i.name = ${f.lab}`);
  if (f.state) c.push(Prisma.sql`j.state = ${f.state}`);
  if (f.health) c.push(Prisma.sql`j.health = ${f.health}`);
  if (f.deviceType) c.push(Prisma.sql`j.device_type = ${f.deviceType}`);
  if (f.jobName) c.push(Prisma.sql`j.name ILIKE ${"%" + likeEscape(f.jobName) + "%"}`);
  if (f.metadata && Object.keys(f.metadata).length) c.push(Prisma.sql`j.metadata @> ${JSON.stringify(f.metadata)}::jsonb`);
  return Prisma.join(c, " AND ");
}
