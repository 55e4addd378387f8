import type { FastifyInstance } from "fastify";
import { pingDatabase } from "@magma/db/instance";
import type { InstanceContext } from "../../context.ts";
import type { InstanceMetrics } from "../../metrics.ts";

/** Longest wait for the database in a readiness check, ms. */
const READY_DB_TIMEOUT_MS = 2000;

/**
 * Operations endpoints (no authentication; they reveal counts, never job data), not access-logged:
 *   GET /healthz → 200 `{status: "ok"}` while the process serves HTTP (liveness)
 *   GET /readyz  → 200 `{status: "ready"}` when the database answers within 2 s and the server is not
 *                  shutting down, else 503 `{status: "unready", reason}` (readiness)
 *   GET /metrics → Prometheus text format of {@link InstanceMetrics}
 */
export function registerOpsRoutes(app: FastifyInstance, ctx: InstanceContext, metrics: InstanceMetrics, shutdown: AbortSignal): void {
  const quiet = { logLevel: "silent" as const };
  app.get("/healthz", quiet, async () => ({ status: "ok" }));
  app.get("/readyz", quiet, async (_req, reply) => {
    if (shutdown.aborted) return reply.code(503).send({ status: "unready", reason: "shutting down" });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pingDatabase(ctx.db),
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${READY_DB_TIMEOUT_MS} ms`)), READY_DB_TIMEOUT_MS)),
        ),
      ]);
      return { status: "ready" };
    } catch (e) {
      return reply.code(503).send({ status: "unready", reason: `database: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` });
    } finally {
      clearTimeout(timer);
    }
  });
  app.get("/metrics", quiet, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header("content-type", metrics.registry.contentType).send(text);
  });
}
