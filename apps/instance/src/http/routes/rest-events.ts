import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZEventsQuery } from "@magma/protocol";
import type { InstanceContext } from "../../context.ts";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import { streamEvents } from "../../events/event-stream.ts";
import { parseOr400 } from "../params.ts";
import { serveSse } from "../sse.ts";

const P = INSTANCE_API_PREFIX;

/**
 * GET /api/v0.2/events/?since=N[&topic=a,b] — LAVA's event stream (events/event-stream.ts),
 * resumable: Server-Sent Events `id: <seq>`, `event: <topic>`, `data: [topic, uuid, datetime,
 * username, json]` for every event after `since` (or the `Last-Event-ID` header), then new ones as
 * they are committed; `: keepalive` comments when idle. Unlike LAVA's ZMQ/websocket stream nothing
 * is lost while a client is away: events are rows. The caller (optional `Authorization: Token`,
 * anonymous = public jobs only) sees only what the job visibility policy allows. A bad token is
 * refused (401) before the stream starts.
 */
export function registerRestEventRoutes(app: FastifyInstance, ctx: InstanceContext, shutdown: AbortSignal): void {
  app.get(`${P}/events/`, async (req, reply) => {
    const q = parseOr400(ZEventsQuery, req.query, "query");
    const user = await authenticateToken(ctx.db, req.headers);
    const last = Number(req.headers["last-event-id"]);
    const after = Number.isInteger(last) && last >= 0 ? last : q.since;
    const topics = q.topic ? new Set(q.topic.split(",").map((t) => t.trim())) : null;
    await serveSse(reply, shutdown, "event stream", req.log, (sink, closed) => streamEvents(ctx, { user, after, topics }, sink, closed));
  });
}
