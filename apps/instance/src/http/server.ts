import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import formbody from "@fastify/formbody";
import { ERROR_CODES, type TErrorBody } from "@magma/protocol";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { registerRestJobRoutes } from "./routes/rest-jobs.ts";
import { registerRestLogRoutes } from "./routes/rest-job-logs.ts";
import { registerRestResultRoutes } from "./routes/rest-job-results.ts";
import { registerRestInventoryRoutes } from "./routes/rest-inventory.ts";
import { registerRestDeviceRoutes } from "./routes/rest-devices.ts";
import { registerWorkerApiRoutes } from "./routes/worker-api.ts";
import { registerXmlRpcRoutes } from "./routes/xmlrpc.ts";
import { registerRestLavaCompatRoutes } from "./routes/rest-lava-compat.ts";
import { registerRestEventRoutes } from "./routes/rest-events.ts";
import { registerOpsRoutes } from "./routes/ops.ts";

/** Default largest request body, bytes (routes raise it where needed, e.g. log uploads). */
export const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * One access line per request: Fastify's "request completed" (with method, url, status, time),
 * without its "incoming request" line, which halves the log volume of the hot paths (submissions,
 * worker pings, log uploads).
 */
class AccessLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error)
      reply.log.error(
        { method: request.method, url: request.url, res: reply, err: error, responseTime: reply.elapsedTime },
        "request errored",
      );
    else reply.log.info({ method: request.method, url: request.url, res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}

/**
 * Builds the Fastify server with every route. `shutdown` aborts long-polls and log streams when the
 * server closes, so `close()` never waits on a 25 s ping. Errors become `{code, message}` bodies with
 * the catalog status; Fastify's own 4xx (bad JSON, 413, 415) map to catalog codes; nothing caused by
 * input answers 500.
 */
export function createServer(ctx: InstanceContext, shutdown: AbortController): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    forceCloseConnections: true,
    logController: new AccessLogController(),
  });
  app.register(formbody);
  app.addHook("preClose", async () => {
    shutdown.abort();
  });

  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    let status: number;
    let body: TErrorBody;
    if (err instanceof AppError) {
      status = err.statusCode;
      body = { code: err.code, message: err.message };
    } else {
      const fe = err as FastifyError;
      const s = fe.statusCode ?? 500;
      if (s === 413) {
        status = 413;
        body = { code: "PAYLOAD_TOO_LARGE", message: `Request body is larger than the limit: ${fe.message}` };
      } else if (s >= 400 && s < 500) {
        status = s;
        body = { code: s === 404 ? "NOT_FOUND" : "INVALID_REQUEST", message: fe.message };
      } else {
        status = 500;
        body = { code: "INTERNAL", message: ERROR_CODES.INTERNAL.message };
        req.log.error({ err }, "unhandled error");
      }
    }
    if (status < 500) req.log.info({ code: body.code, status, reason: body.message }, "request refused");
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: "NOT_FOUND", message: `No route ${req.method} ${req.url.split("?")[0]}` } satisfies TErrorBody);
  });

  registerRestJobRoutes(app, ctx);
  registerRestLogRoutes(app, ctx, shutdown.signal);
  registerRestResultRoutes(app, ctx);
  registerRestInventoryRoutes(app, ctx);
  registerRestDeviceRoutes(app, ctx);
  registerWorkerApiRoutes(app, ctx, shutdown.signal);
  registerXmlRpcRoutes(app, ctx);
  registerRestLavaCompatRoutes(app, ctx);
  registerRestEventRoutes(app, ctx, shutdown.signal);
  if (ctx.metrics) registerOpsRoutes(app, ctx, ctx.metrics, shutdown.signal);
  return app;
}
