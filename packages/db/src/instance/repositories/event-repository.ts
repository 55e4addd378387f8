import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TInstanceViewer, TStoredEvent } from "../dto.ts";
import { visibleJobIds } from "./job-visibility.ts";

/** Most events one read returns. */
export const MAX_EVENTS_PER_READ = 500;

/** Events with id > `since`, oldest first, at most `limit` (LAVA's event stream, made resumable: events are rows). */
export async function readEvents(db: InstanceDb | InstanceTx, since: number, limit = MAX_EVENTS_PER_READ): Promise<TStoredEvent[]> {
  const rows = await db.event.findMany({
    where: { id: { gt: since } },
    orderBy: { id: "asc" },
    take: Math.min(limit, MAX_EVENTS_PER_READ),
  });
  return rows.map((r) => ({ id: r.id, topic: r.topic, createdAt: r.createdAt, data: r.data as Record<string, unknown> }));
}

const TESTJOB_TOPIC = "org.lavasoftware.testjob";

/**
 * The events `viewer` (null = anonymous) may receive, by the job visibility policy: testjob events of
 * jobs the viewer may not see are dropped; other events naming such a job (a device's current job)
 * lose their `job` field. Superusers get every event unchanged. One query per batch.
 */
export async function visibleEvents(
  db: InstanceDb | InstanceTx,
  events: TStoredEvent[],
  viewer: TInstanceViewer | null,
): Promise<TStoredEvent[]> {
  if (viewer?.isSuperuser) return events;
  const jobIdOf = (e: TStoredEvent) => (typeof e.data["job"] === "number" ? (e.data["job"] as number) : null);
  const ids = [...new Set(events.map(jobIdOf).filter((id): id is number => id !== null))];
  const visible = await visibleJobIds(db, ids, viewer);
  const out: TStoredEvent[] = [];
  for (const e of events) {
    const id = jobIdOf(e);
    if (id === null || visible.has(id)) out.push(e);
    else if (e.topic !== TESTJOB_TOPIC) {
      const { job: _job, ...rest } = e.data;
      out.push({ ...e, data: rest });
    }
  }
  return out;
}
