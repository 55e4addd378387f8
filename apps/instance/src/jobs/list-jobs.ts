import { JOB_HEALTHS, JOB_STATES, type TJobSummary, type TPage } from "@magma/protocol";
import type { InstanceDb, Prisma, User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { JOB_NAMES_INCLUDE, toJobSummary } from "./job-dto.ts";

export interface ListJobsFilter {
  limit: number;
  offset: number;
  /** state names, LAVA `state=` or `state__in=` */
  states?: string[];
  healths?: string[];
  requestedDeviceType?: string;
  /** any of these device types (LAVA XML-RPC `jobs.queue(device_types)`) */
  requestedDeviceTypes?: string[];
  /** only jobs whose end_time is at or after this instant (LAVA XML-RPC `jobs.list(since=N minutes)`) */
  endedAfter?: Date;
  /** `id`, `-id`, `submit_time`, `-submit_time`, `end_time`, `-end_time`, `priority`, `-priority` */
  ordering?: string;
}

const ORDER_FIELDS: Record<string, keyof Prisma.TestJobOrderByWithRelationInput> = {
  id: "id",
  submit_time: "submitTime",
  start_time: "startTime",
  end_time: "endTime",
  priority: "priority",
};

/**
 * Lists jobs the user may see (public ones, plus own / all for superusers), newest first unless
 * `ordering` says otherwise, as a DRF LimitOffset page; `buildUrl` makes `next`/`previous` links.
 * @throws AppError INVALID_REQUEST naming the bad filter value (`state 'Done' is not one of …`)
 */
export async function listJobs(db: InstanceDb, user: User | null, f: ListJobsFilter, buildUrl: (offset: number) => string): Promise<TPage<TJobSummary>> {
  for (const s of f.states ?? []) if (!(JOB_STATES as readonly string[]).includes(s)) throw new AppError("INVALID_REQUEST", `state '${s}' is not one of ${JOB_STATES.join(", ")}`);
  for (const h of f.healths ?? []) if (!(JOB_HEALTHS as readonly string[]).includes(h)) throw new AppError("INVALID_REQUEST", `health '${h}' is not one of ${JOB_HEALTHS.join(", ")}`);
  const ordering = f.ordering ?? "-id";
  const field = ORDER_FIELDS[ordering.replace(/^-/, "")];
  if (!field) throw new AppError("INVALID_REQUEST", `ordering '${ordering}' is not one of ${Object.keys(ORDER_FIELDS).join(", ")} (prefix - for descending)`);
  const where: Prisma.TestJobWhereInput = {
    ...(f.states?.length ? { state: { in: f.states as never } } : {}),
    ...(f.healths?.length ? { health: { in: f.healths as never } } : {}),
    ...(f.requestedDeviceType ? { requestedDeviceType: { name: f.requestedDeviceType } } : {}),
    ...(f.requestedDeviceTypes ? { requestedDeviceType: { name: { in: f.requestedDeviceTypes } } } : {}),
    ...(f.endedAfter ? { endTime: { gte: f.endedAfter } } : {}),
    ...(user?.isSuperuser ? {} : { OR: [{ visibility: "public" }, ...(user ? [{ submitterId: user.id }] : [])] }),
  };
  const dir = ordering.startsWith("-") ? "desc" : "asc";
  const [count, rows] = await Promise.all([
    db.testJob.count({ where }),
    db.testJob.findMany({ where, include: JOB_NAMES_INCLUDE, orderBy: [{ [field]: dir }, { id: dir }], skip: f.offset, take: f.limit }),
  ]);
  return {
    count,
    next: f.offset + f.limit < count ? buildUrl(f.offset + f.limit) : null,
    previous: f.offset > 0 ? buildUrl(Math.max(0, f.offset - f.limit)) : null,
    results: rows.map(toJobSummary),
  };
}
