import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZEventsQuery } from "@magma/protocol";
import type { InstanceContext } from "../../context.ts";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import { readEvents, visibleEvents } from "@magma/db/instance";
import { toLavaFrames } from "../../events/read-events.ts";
import { parseOr400 } from "../params.ts";
import { SSE_KEEPALIVE_MS } from "./rest-job-logs.ts";

const P = INSTANCE_API_PREFIX;
/** How often an idle stream looks for new rows, ms (events come from DB triggers on any code path). */
export const EVENTS_POLL_MS = 200;


/**
 * GET /api/v0.2/events/?since=N[&topic=a,b] — LAVA's event stream (lava-publisher's topics and
 * fields), resumable: Server-Sent Events `id: <seq>`, `event: <topic>`, `data: [topic, uuid,
 * datetime, username, json]` (LAVA's websocket frame) for every event after `since` (or the
 * `Last-Event-ID` header), then new ones as they are committed; `: keepalive` comments when idle.
 * Unlike LAVA's ZMQ/websocket stream nothing is lost while a client is away: events are rows.
 * Visibility (the policy in packages/db/src/instance/repositories/job-visibility.ts): a testjob event is sent only when the caller (optional
 * `Authorization: Token`, anonymous = public jobs only) may see the job; a device event about a job
 * the caller may not see is sent without its `job` field. A bad token is refused (401) before the stream starts.
 */
export function registerRestEventRoutes(app: FastifyInstance, ctx: InstanceContext, shutdown: AbortSignal): void {
  app.get(`${P}/events/`, async (req, reply) => {
    const q = parseOr400(ZEventsQuery, req.query, "query");
    const user = await authenticateToken(ctx.db, req.headers);
    const last = Number(req.headers["last-event-id"]);
    let cursor = Number.isInteger(last) && last >= 0 ? last : q.since;
    const topics = q.topic ? new Set(q.topic.split(",").map((t) => t.trim())) : null;
    const closed = new AbortController();
    const onShutdown = () => closed.abort();
    shutdown.addEventListener("abort", onShutdown, { once: true });
    reply.raw.on("close", () => closed.abort());
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    reply.raw.write(": magma event stream\n\n");
    let idleMs = 0;
    try {
      while (!closed.signal.aborted) {
        const batch = await readEvents(ctx.db, cursor);
        if (batch.length) {
          idleMs = 0;
          const shown = await visibleEvents(ctx.db, batch.filter((e) => !topics || topics.has(e.topic)), user);
          const out = shown.map((e) => `id: ${e.id}\nevent: ${e.topic}\ndata: ${JSON.stringify(toLavaFrames(e, ctx.config.name))}\n\n`);
          if (out.length) reply.raw.write(out.join(""));
          cursor = batch[batch.length - 1]!.id;
          continue;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, EVENTS_POLL_MS);
          closed.signal.addEventListener("abort", done, { once: true });
          function done() {
            clearTimeout(t);
            closed.signal.removeEventListener("abort", done);
            resolve();
          }
        });
        idleMs += EVENTS_POLL_MS;
        if (idleMs >= SSE_KEEPALIVE_MS && !closed.signal.aborted) {
          idleMs = 0;
          reply.raw.write(": keepalive\n\n");
        }
      }
    } catch (e) {
      req.log.error({ err: e }, "event stream failed");
    } finally {
      shutdown.removeEventListener("abort", onShutdown);
      reply.raw.end();
    }
  });
}
