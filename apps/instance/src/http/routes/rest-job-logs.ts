import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZLogRangeQuery } from "@magma/protocol";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { getVisibleJob } from "../../jobs/get-job.ts";
import { jobLogProgress, readLogLines } from "@magma/db/instance";
import { formatLogLine } from "../../notify/format.ts";
import { jobIdParam, parseOr400 } from "../params.ts";

const P = INSTANCE_API_PREFIX;
/** Comment line sent on an idle stream so proxies keep it open, ms. */
export const SSE_KEEPALIVE_MS = 15_000;
const STREAM_CHUNK = 1000;

const ZRange = ZLogRangeQuery;

/**
 * Job log routes:
 *   GET jobs/<id>/logs/?start=&end=   LAVA's output.yaml lines `[start, end)` as `application/yaml`
 *       (one `- {"dt": …, "lvl": …, "msg": …}` per line); `Accept: application/json` → TLogLine[]
 *   GET jobs/<id>/logs/stream/?start=  Server-Sent Events: `event: line` `id: <line>` `data: {line,dt,lvl,msg}`
 *       per stored line (Last-Event-ID resumes after that line), woken by ingestion (no polling
 *       delay), `event: end` once the job is Finished and every line was sent, then closed.
 */
export function registerRestLogRoutes(app: FastifyInstance, ctx: InstanceContext, shutdown: AbortSignal): void {
  app.get(`${P}/jobs/:id/logs/`, async (req, reply) => {
    const user = await authenticateToken(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    await getVisibleJob(ctx.db, id, user);
    const { start, end } = parseOr400(ZRange, req.query, "query");
    const lines = await readLogLines(ctx.db, id, start, end);
    if ((req.headers.accept ?? "").includes("application/json")) return lines;
    return reply
      .type("application/yaml")
      .header("content-disposition", `attachment; filename=job_${id}.yaml`)
      .send(lines.map((l) => formatLogLine(l) + "\n").join(""));
  });

  app.get(`${P}/jobs/:id/logs/stream/`, async (req, reply) => {
    const user = await authenticateToken(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    await getVisibleJob(ctx.db, id, user);
    const { start } = parseOr400(ZRange, req.query, "query");
    const lastEventId = Number(req.headers["last-event-id"]);
    let next = Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId + 1 : start;
    const log = req.log.child({ jobId: id });

    const closed = new AbortController();
    const onShutdown = () => closed.abort();
    shutdown.addEventListener("abort", onShutdown, { once: true });
    reply.raw.on("close", () => closed.abort());
    let changed = true;
    let wake: (() => void) | null = null;
    const unsubscribe = ctx.notifier.onJob(id, () => {
      changed = true;
      wake?.();
    });
    reply.hijack();
    reply.raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    reply.raw.write(": magma log stream\n\n");
    try {
      while (!closed.signal.aborted) {
        changed = false;
        const job = await jobLogProgress(ctx.db, id);
        if (!job) break;
        while (next < job.logLineCount && !closed.signal.aborted) {
          const lines = await readLogLines(ctx.db, id, next, Math.min(job.logLineCount, next + STREAM_CHUNK));
          if (!lines.length) break;
          reply.raw.write(lines.map((l) => `event: line\nid: ${l.line}\ndata: ${JSON.stringify(l)}\n\n`).join(""));
          next = lines[lines.length - 1]!.line + 1;
        }
        if (job.state === "Finished" && next >= job.logLineCount) {
          reply.raw.write(`event: end\ndata: ${JSON.stringify({ line_count: job.logLineCount })}\n\n`);
          break;
        }
        if (changed) continue;
        const r = await new Promise<"woken" | "idle">((resolve) => {
          const t = setTimeout(() => finish("idle"), SSE_KEEPALIVE_MS);
          const onAbort = () => finish("woken");
          closed.signal.addEventListener("abort", onAbort, { once: true });
          function finish(x: "woken" | "idle") {
            clearTimeout(t);
            closed.signal.removeEventListener("abort", onAbort);
            wake = null;
            resolve(x);
          }
          wake = () => finish("woken");
        });
        if (r === "idle" && !closed.signal.aborted) reply.raw.write(": keepalive\n\n");
      }
    } catch (e) {
      log.error({ err: e }, "log stream failed");
    } finally {
      unsubscribe();
      shutdown.removeEventListener("abort", onShutdown);
      reply.raw.end();
    }
  });
}
