import { readEvents, visibleEvents, type TInstanceViewer } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { SSE_KEEPALIVE_MS, type SseSink } from "../streams.ts";
import { toLavaFrames } from "./read-events.ts";

/** How often an idle stream looks for new rows, ms (events come from DB triggers on any code path). */
export const EVENTS_POLL_MS = 200;

export interface EventStreamOptions {
  /** the caller (null = anonymous): events are filtered by the job visibility policy */
  user: TInstanceViewer | null;
  /** send events with a sequence id above this */
  after: number;
  /** only these topics (null = all) */
  topics: ReadonlySet<string> | null;
}

/**
 * LAVA's event stream (lava-publisher's topics and fields), resumable: every stored event after
 * `opts.after` as `id: <seq>`, `event: <topic>`, `data: [topic, uuid, datetime, username, json]`
 * (LAVA's websocket frame), then new ones as they are committed (polled every
 * {@link EVENTS_POLL_MS}), `: keepalive` after {@link SSE_KEEPALIVE_MS} idle, until `closed` aborts.
 * Visibility (`visibleEvents`): a testjob event only when the caller may see the job; a device
 * event about a job the caller may not see loses its `job` field.
 */
export async function streamEvents(ctx: InstanceContext, opts: EventStreamOptions, sink: SseSink, closed: AbortSignal): Promise<void> {
  let cursor = opts.after;
  let idleMs = 0;
  while (!closed.aborted) {
    const batch = await readEvents(ctx.db, cursor);
    if (batch.length) {
      idleMs = 0;
      const shown = await visibleEvents(
        ctx.db,
        batch.filter((e) => !opts.topics || opts.topics.has(e.topic)),
        opts.user,
      );
      sink.send(shown.map((e) => ({ id: e.id, event: e.topic, data: JSON.stringify(toLavaFrames(e, ctx.config.name)) })));
      cursor = batch[batch.length - 1]!.id;
      continue;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, EVENTS_POLL_MS);
      closed.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(t);
        closed.removeEventListener("abort", done);
        resolve();
      }
    });
    idleMs += EVENTS_POLL_MS;
    if (idleMs >= SSE_KEEPALIVE_MS && !closed.aborted) {
      idleMs = 0;
      sink.comment("keepalive");
    }
  }
}
