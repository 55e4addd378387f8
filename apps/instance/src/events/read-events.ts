import type { TStoredEvent } from "@magma/db/instance";

/**
 * LAVA's 5-frame message `[topic, uuid, datetime, username, json]` (what its websocket sends as one
 * JSON array): the uuid is `<instance>-<id>` (stable across replays), the datetime naive UTC ISO, the
 * username the job's submitter for testjob events and `lavaserver` otherwise, as LAVA.
 */
export function toLavaFrames(e: TStoredEvent, instanceName: string): [string, string, string, string, string] {
  const user =
    e.topic === "org.lavasoftware.testjob" && typeof e.data["submitter"] === "string" ? (e.data["submitter"] as string) : "lavaserver";
  return [e.topic, `${instanceName}-${e.id}`, `${e.createdAt.toISOString().slice(0, 23)}000`, user, JSON.stringify(e.data)];
}
