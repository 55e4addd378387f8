import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZLogRangeQuery } from "@magma/protocol";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { openJobLogStream, readJobLog } from "../../logs/job-log.ts";
import { formatLogLine } from "../../notify/format.ts";
import { jobIdParam, parseOr400 } from "../params.ts";
import { serveSse } from "../sse.ts";

const P = INSTANCE_API_PREFIX;

const ZRange = ZLogRangeQuery;

/**
 * Job log routes (parse, then one service of logs/job-log.ts):
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
    const { start, end } = parseOr400(ZRange, req.query, "query");
    const lines = await readJobLog(ctx.db, user, id, start, end);
    if ((req.headers.accept ?? "").includes("application/json")) return lines;
    return reply
      .type("application/yaml")
      .header("content-disposition", `attachment; filename=job_${id}.yaml`)
      .send(lines.map((l) => formatLogLine(l) + "\n").join(""));
  });

  app.get(`${P}/jobs/:id/logs/stream/`, async (req, reply) => {
    const user = await authenticateToken(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    const { start } = parseOr400(ZRange, req.query, "query");
    const lastEventId = Number(req.headers["last-event-id"]);
    const from = Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId + 1 : start;
    const stream = await openJobLogStream(ctx, user, id, from);
    await serveSse(reply, shutdown, "log stream", req.log.child({ jobId: id }), stream);
  });
}
