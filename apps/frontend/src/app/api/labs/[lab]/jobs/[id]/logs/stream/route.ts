import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { openLabLogStream } from "~/server/services/open-lab-log-stream";
import { viewerOf } from "~/server/http/viewer";

export const dynamic = "force-dynamic";

/**
 * GET /api/labs/<lab>/jobs/<id>/logs/stream?start=N — the lab's log SSE stream (events `line`
 * `{line,dt,lvl,msg}` and `end`), proxied byte for byte so the browser never needs the lab's
 * token or URL. Closing the browser connection aborts the upstream request. An outbound-only lab's
 * job is streamed in the same format from the log lines its link pushed (stored-log-stream.ts).
 * Only for a job the caller (session cookie or API token) may read; 404 otherwise.
 */
export async function GET(req: Request, ctx: { params: Promise<{ lab: string; id: string }> }): Promise<Response> {
  const { lab, id } = await ctx.params;
  try {
    const start = new URL(req.url).searchParams.get("start") ?? "0";
    const upstream = await openLabLogStream({ db: db(), lab, jobId: id, start, signal: req.signal, viewer: await viewerOf(req) });
    return new Response(upstream.body, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
    });
  } catch (e) {
    return errorResponse(e);
  }
}
