import type { FastifyInstance } from "fastify";
import { parse as parseYaml } from "yaml";
import { WORKER_API_PREFIX, WORKER_TOKEN_HEADER, ZJobStateUpdate, ZLogUpload, MAX_PING_WAIT_MS, ZMultinodeRequest } from "@magma/protocol";
import { coordinateMultinode } from "../../multinode/coordinate.ts";
import type { InstanceContext } from "../../context.ts";
import { ingestLogs } from "../../logs/ingest-logs.ts";
import { authenticateJob } from "../../workers/authenticate-job.ts";
import { getJobBundle } from "../../workers/get-job-bundle.ts";
import { pingWorker } from "../../workers/ping-worker.ts";
import { updateJobState } from "../../workers/update-job-state.ts";
import { AppError } from "../../app-error.ts";
import { headerValue, jobIdParam, parseOr400 } from "../params.ts";

const W = WORKER_API_PREFIX;
/** Largest log upload, bytes: 5000 records of up to 16 KiB each, JSON-escaped, fit. */
export const LOG_UPLOAD_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** LAVA-compatible form bodies: `lines` is a YAML flow list and `index` a string. */
function normaliseLogBody(body: unknown): unknown {
  if (!body || typeof body !== "object") return body;
  const b = body as Record<string, unknown>;
  if (typeof b["lines"] !== "string") return body;
  let lines: unknown;
  try {
    lines = parseYaml(b["lines"] as string);
  } catch (e) {
    throw new AppError("INVALID_REQUEST", `Invalid 'lines': ${(e as Error).message.split("\n")[0]}`);
  }
  return { index: Number(b["index"]), lines: lines ?? [] };
}

/**
 * Instance side of the worker protocol (protocol worker-api.ts, LAVA's internal_v1 views):
 *   GET  workers/<name>/?version=&wait_ms=   long-poll ping (worker token)
 *        404 Unknown worker · 400 Missing 'token'/'version' · 401 Invalid 'token' · 409 Version mismatch
 *   GET  jobs/<id>/          job bundle (job token)
 *   POST jobs/<id>/          RUNNING | FINISHED → {} (idempotent)
 *   POST jobs/<id>/logs/     {index, lines} → {line_count} (exactly once by index)
 *   POST jobs/<id>/multinode/ TMultinodeRequest → TMultinodeResponse (long-poll up to wait_ms; job token)
 * Bodies are JSON; LAVA's form encoding is accepted too.
 */
export function registerWorkerApiRoutes(app: FastifyInstance, ctx: InstanceContext, shutdown: AbortSignal): void {
  app.get(`${W}/workers/:name/`, async (req, reply) => {
    const { name } = req.params as { name: string };
    const q = req.query as { version?: string; wait_ms?: string };
    const waitMs = Math.min(MAX_PING_WAIT_MS, Math.max(0, Number(q.wait_ms ?? 0) || 0));
    const closed = new AbortController();
    reply.raw.on("close", () => closed.abort());
    const signal = AbortSignal.any([closed.signal, shutdown]);
    return pingWorker({ ctx, hostname: name, token: headerValue(req.headers[WORKER_TOKEN_HEADER]), version: q.version, waitMs, signal });
  });

  app.get(`${W}/jobs/:id/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    const job = await authenticateJob(ctx.db, id, headerValue(req.headers[WORKER_TOKEN_HEADER]));
    req.log.info({ jobId: id }, "job bundle fetched");
    return getJobBundle(ctx.db, job);
  });

  app.post(`${W}/jobs/:id/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    await authenticateJob(ctx.db, id, headerValue(req.headers[WORKER_TOKEN_HEADER]));
    const update = parseOr400(ZJobStateUpdate, req.body, "state update");
    req.log.info({ jobId: id, state: update.state }, "job state report");
    await updateJobState(ctx, id, update);
    return {};
  });

  app.post(`${W}/jobs/:id/logs/`, { bodyLimit: LOG_UPLOAD_BODY_LIMIT_BYTES }, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    await authenticateJob(ctx.db, id, headerValue(req.headers[WORKER_TOKEN_HEADER]));
    const upload = parseOr400(ZLogUpload, normaliseLogBody(req.body), "log upload");
    const r = await ingestLogs({ ctx, jobId: id, index: upload.index, lines: upload.lines });
    req.log.debug({ jobId: id, index: upload.index, received: upload.lines.length, stored: r.stored }, "log batch");
    return { line_count: r.line_count };
  });

  app.post(`${W}/jobs/:id/multinode/`, async (req, reply) => {
    const id = jobIdParam((req.params as { id: string }).id);
    await authenticateJob(ctx.db, id, headerValue(req.headers[WORKER_TOKEN_HEADER]));
    const request = parseOr400(ZMultinodeRequest, req.body, "multinode request");
    const closed = new AbortController();
    reply.raw.on("close", () => closed.abort());
    req.log.info({ jobId: id, request: request.request, messageID: request.messageID }, "multinode request");
    return coordinateMultinode({ ctx, jobId: id, request, signal: AbortSignal.any([closed.signal, shutdown]) });
  });
}
