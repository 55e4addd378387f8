import type { InstanceDb } from "@magma/db/instance";

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
