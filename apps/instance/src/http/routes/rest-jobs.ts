import type { FastifyInstance } from "fastify";
import {
  IDEMPOTENCY_HEADER,
  INSTANCE_API_PREFIX,
  MAX_DEFINITION_BYTES,
  ZBatchCancelRequest,
  ZJobListFilters,
  ZSubmitJobRequest,
  type TBatchCancelResponse,
  type TSubmitJobResponse,
} from "@magma/protocol";
import { AppError } from "../../app-error.ts";
import { authenticateToken, requireUser } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { batchCancelJobs, cancelJob } from "../../jobs/cancel-job.ts";
import { getJobDetail } from "../../jobs/get-job.ts";
import { listJobs } from "../../jobs/list-jobs.ts";
import { submitJob, validateDefinition } from "../../jobs/submit-job.ts";
import { headerValue, jobIdParam, pagingQuery, parseOr400 } from "../params.ts";

const P = INSTANCE_API_PREFIX;
// a 512 KiB definition may double when JSON-escaped
const SUBMIT_BODY_LIMIT_BYTES = MAX_DEFINITION_BYTES * 2 + 64 * 1024;
const list = (v: unknown) =>
  typeof v === "string" && v
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

const ZListQuery = ZJobListFilters;

/**
 * Jobs REST routes (LAVA api/v0.2):
 *   POST jobs/            submit (Token auth; Idempotency-Key) → 201 {message, job_ids} (MultiNode: sub ids "N.k")
 *     1. no/invalid token → 401; 2. invalid YAML → 400 `Job invalid: … @ data['path']`;
 *     3. unknown device type → 400 naming it; 4. same Idempotency-Key → 201 with the first job ids
 *   POST jobs/validate/   → 200 {message: "Job valid."} or {message: "Job invalid: …"} (anonymous, as LAVA)
 *   GET  jobs/            DRF page of jobs visible to the caller, filters state/health/requested_device_type/ordering
 *   GET  jobs/<id>/       job detail (404 when not visible)
 *   POST|GET jobs/<id>/cancel/ → {message: "Job cancel signal sent."}
 *   POST jobs/batch_cancel/ {job_ids} → {message, job_ids (canceled), invalid_job_ids} (LAVA 2025+)
 */
export function registerRestJobRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  app.post(`${P}/jobs/`, { bodyLimit: SUBMIT_BODY_LIMIT_BYTES }, async (req, reply) => {
    const user = await requireUser(ctx.db, req.headers);
    const { definition } = parseOr400(ZSubmitJobRequest, req.body);
    const key = headerValue(req.headers[IDEMPOTENCY_HEADER]);
    req.log.debug({ submitter: user.username, idempotencyKey: key }, "submit job");
    const r = await submitJob({ ctx, submitter: user, text: definition, idempotencyKey: key });
    const body: TSubmitJobResponse = { message: "job(s) successfully submitted", job_ids: r.subIds ?? r.jobIds };
    return reply.status(201).send(body);
  });

  app.post(`${P}/jobs/validate/`, { bodyLimit: SUBMIT_BODY_LIMIT_BYTES }, async (req) => {
    const { definition } = parseOr400(ZSubmitJobRequest, req.body);
    try {
      validateDefinition(definition);
      return { message: "Job valid." };
    } catch (e) {
      if (e instanceof AppError) return { message: e.message };
      throw e;
    }
  });

  app.get(`${P}/jobs/`, async (req) => {
    const user = await authenticateToken(ctx.db, req.headers);
    const { limit, offset } = pagingQuery(req.query);
    const q = parseOr400(ZListQuery, req.query, "query");
    const base = new URL(`${ctx.config.publicUrl}${P}/jobs/`);
    const buildUrl = (o: number) => {
      const u = new URL(base);
      for (const [k, v] of Object.entries(req.query as Record<string, string>))
        if (k !== "offset" && k !== "limit") u.searchParams.set(k, String(v));
      u.searchParams.set("limit", String(limit));
      u.searchParams.set("offset", String(o));
      return u.toString();
    };
    return listJobs(
      ctx.db,
      user,
      {
        limit,
        offset,
        states: list(q.state__in) ?? list(q.state),
        healths: list(q.health__in) ?? list(q.health),
        requestedDeviceType: q.requested_device_type__name ?? q.requested_device_type,
        ordering: q.ordering,
      },
      buildUrl,
    );
  });

  app.get(`${P}/jobs/:id/`, async (req) => {
    const user = await authenticateToken(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    return getJobDetail(ctx.db, id, user);
  });

  const cancel = async (req: {
    headers: import("node:http").IncomingHttpHeaders;
    params: unknown;
    log: { info: (o: object, m: string) => void };
  }) => {
    const user = await requireUser(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    req.log.info({ jobId: id, by: user.username }, "cancel job");
    await cancelJob(ctx, id, user);
    return { message: "Job cancel signal sent." };
  };
  app.post(`${P}/jobs/batch_cancel/`, async (req): Promise<TBatchCancelResponse> => {
    const user = await requireUser(ctx.db, req.headers);
    const body = parseOr400(ZBatchCancelRequest, req.body, "body");
    const r = await batchCancelJobs(ctx, body.job_ids, user);
    req.log.info({ canceled: r.canceled, invalid: r.invalid, by: user.username }, "batch cancel");
    return { message: "Job cancel signal sent for job ids.", job_ids: r.canceled, invalid_job_ids: r.invalid };
  });
  app.post(`${P}/jobs/:id/cancel/`, cancel);
  app.get(`${P}/jobs/:id/cancel/`, cancel);
}
