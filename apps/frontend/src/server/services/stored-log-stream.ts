import { linkLogProgress, readStoredLogLines, type FrontendDb } from "@magma/db/frontend";

/** How often the stream looks for newly stored lines, ms (lines arrive in ~1 s chunks over the link). */
const STORED_LOG_POLL_MS = 300;
/** Idle time after which a `: keepalive` comment is sent, ms. */
const KEEPALIVE_MS = 15_000;
/** Most lines read and sent per batch. */
const BATCH_LINES = 1000;

export interface OpenStoredLogStreamOptions {
  db: FrontendDb;
  instanceId: number;
  /** the lab's job id */
  remoteId: number;
  /** first line to send */
  start: number;
  /** aborted when the browser hangs up: the stream ends */
  signal: AbortSignal;
}

/**
 * The live log of an outbound-only lab's job, served from the lines its link pushed
 * (`federated_log_chunk`), in the lab stream's SSE format: `event: line` `id: <line>`
 * `data: {line,dt,lvl,msg}` per stored line from `start` on, new lines as they are stored (looked for
 * every 300 ms), `: keepalive` after 15 s idle, and `event: end` `data: {line_count}` once the job is
 * Finished and the lab said its log is complete and every line was sent; the stream closes then, or
 * when `signal` aborts, or when the job disappears.
 */
export function openStoredLogStream({ db, instanceId, remoteId, start, signal }: OpenStoredLogStreamOptions): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let stopped = false;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (s: string) => {
        if (!stopped) controller.enqueue(enc.encode(s));
      };
      let next = start;
      let idleSince = Date.now();
      try {
        while (!signal.aborted && !stopped) {
          const p = await linkLogProgress(db, instanceId, remoteId);
          if (!p) break;
          while (next < p.nextLine && !signal.aborted) {
            const lines = await readStoredLogLines(db, p.id, next, Math.min(BATCH_LINES, p.nextLine - next));
            if (!lines.length) {
              next = p.nextLine;
              break;
            }
            send(lines.map((l) => `event: line\nid: ${l.line}\ndata: ${JSON.stringify(l)}\n\n`).join(""));
            next = lines[lines.length - 1]!.line + 1;
            idleSince = Date.now();
          }
          if (p.done && p.state === "Finished" && next >= p.nextLine) {
            send(`event: end\ndata: ${JSON.stringify({ line_count: p.nextLine })}\n\n`);
            break;
          }
          if (Date.now() - idleSince > KEEPALIVE_MS) {
            send(": keepalive\n\n");
            idleSince = Date.now();
          }
          // one listener per wait, removed again: a stream open for hours must not pile them up
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(t);
              signal.removeEventListener("abort", done);
              resolve();
            };
            const t = setTimeout(done, STORED_LOG_POLL_MS);
            signal.addEventListener("abort", done, { once: true });
          });
        }
      } catch (e) {
        if (!stopped) controller.error(e);
        stopped = true;
        return;
      }
      if (!stopped) controller.close();
      stopped = true;
    },
    cancel() {
      stopped = true;
    },
  });
}
