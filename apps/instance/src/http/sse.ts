import type { FastifyReply } from "fastify";
import type { SseEvent, SseSink } from "../streams.ts";

const HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/** One event's lines, its fields in the order the object lists them (each stream keeps its own order). */
function frame(e: SseEvent): string {
  let out = "";
  for (const [k, v] of Object.entries(e)) if (v !== undefined) out += `${k}: ${v}\n`;
  return out + "\n";
}

/**
 * Serves a Server-Sent Events response: takes the reply over from Fastify, writes the headers and
 * `: <banner>`, runs `run(sink, closed)` until it returns or the client goes away or the server
 * shuts down (`closed` aborts then), and ends the response. An error thrown by `run` is logged
 * (`<what> failed`); the response has started, so nothing else can be sent.
 * Call it only after every check that may answer with an error status (auth, 404).
 */
export async function serveSse(
  reply: FastifyReply,
  shutdown: AbortSignal,
  what: string,
  log: { error(o: object, m: string): void },
  run: (sink: SseSink, closed: AbortSignal) => Promise<void>,
): Promise<void> {
  const closed = new AbortController();
  const onShutdown = () => closed.abort();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  reply.raw.on("close", () => closed.abort());
  reply.hijack();
  reply.raw.writeHead(200, HEADERS);
  reply.raw.write(`: magma ${what}\n\n`);
  const sink: SseSink = {
    send: (events) => {
      if (events.length) reply.raw.write(events.map(frame).join(""));
    },
    comment: (text) => reply.raw.write(`: ${text}\n\n`),
  };
  try {
    await run(sink, closed.signal);
  } catch (e) {
    log.error({ err: e }, `${what} failed`);
  } finally {
    shutdown.removeEventListener("abort", onShutdown);
    reply.raw.end();
  }
}
