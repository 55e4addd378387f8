import { Prisma } from "../../generated/frontend/client";
import type { TJobListFilter } from "../dto.ts";

/** Escapes LIKE wildcards so a job-name filter is a plain substring match. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * SQL conditions for a job filter over `federated_job j JOIN instance i`, ANDed; `TRUE` when empty.
 * Metadata uses JSONB containment (`@>`) so the GIN jsonb_path_ops index serves it.
 */
export function jobFilterSql(f: TJobListFilter): Prisma.Sql {
  const c: Prisma.Sql[] = [];
  if (f.lab) c.push(Prisma.sql`i.name = ${f.lab}`);
  if (f.state) c.push(Prisma.sql`j.state = ${f.state}`);
  if (f.health) c.push(Prisma.sql`j.health = ${f.health}`);
  if (f.deviceType) c.push(Prisma.sql`j.device_type = ${f.deviceType}`);
  if (f.jobName) c.push(Prisma.sql`j.name ILIKE ${"%" + likeEscape(f.jobName) + "%"}`);
  if (f.metadata && Object.keys(f.metadata).length) c.push(Prisma.sql`j.metadata @> ${JSON.stringify(f.metadata)}::jsonb`);
  return c.length ? Prisma.join(c, " AND ") : Prisma.sql`TRUE`;
}
