import type { InstanceDb, User } from "@magma/db/instance";
import { visibleJobIds } from "../auth/job-visibility.ts";

/** One stored event: `id` is the stream's sequence number (resume after it). */
export interface StoredEvent {
  id: number;
  topic: string;
  createdAt: Date;
  data: Record<string, unknown>;
}

/** Most events one read returns. */
export const MAX_EVENTS_PER_READ = 500;

/** Events with id > `since`, oldest first, at most `limit` (LAVA's event stream, made resumable). */
export async function readEvents(db: InstanceDb, since: number, limit = MAX_EVENTS_PER_READ): Promise<StoredEvent[]> {
  const rows = await db.event.findMany({ where: { id: { gt: since } }, orderBy: { id: "asc" }, take: Math.min(limit, MAX_EVENTS_PER_READ) });
  return rows.map((r) => ({ id: r.id, topic: r.topic, createdAt: r.createdAt, data: r.data as Record<string, unknown> }));
}

/**
 * LAVA's 5-frame message `[topic, uuid, datetime, username, json]` (what its websocket sends as one
 * JSON array): the uuid is `<instance>-<id>` (stable across replays), the datetime naive UTC ISO, the
 * username the job's submitter for testjob events and `lavaserver` otherwise, as LAVA.
 */
export function toLavaFrames(e: StoredEvent, instanceName: string): [string, string, string, string, string] {
  const user = e.topic === "org.lavasoftware.testjob" && typeof e.data["submitter"] === "string" ? (e.data["submitter"] as string) : "lavaserver";
  return [e.topic, `${instanceName}-${e.id}`, `${e.createdAt.toISOString().slice(0, 23)}000`, user, JSON.stringify(e.data)];
}

const TESTJOB_TOPIC = "org.lavasoftware.testjob";

/**
 * The events `user` (null = anonymous) may receive, by the job visibility policy: testjob events of
 * jobs the user may not see are dropped; other events naming such a job (a device's current job) lose
 * their `job` field. Superusers get every event unchanged. One query per batch.
 */
export async function visibleEvents(db: InstanceDb, events: StoredEvent[], user: User | null): Promise<StoredEvent[]> {
  if (user?.isSuperuser) return events;
  const jobIdOf = (e: StoredEvent) => (typeof e.data["job"] === "number" ? (e.data["job"] as number) : null);
  const ids = [...new Set(events.map(jobIdOf).filter((id): id is number => id !== null))];
  const visible = await visibleJobIds(db, ids, user);
  const out: StoredEvent[] = [];
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
