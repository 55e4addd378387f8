import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZFinishedJobsQuery, ZJobCasesQuery } from "@magma/protocol";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { getFederationPayload } from "../../federation/get-federation-payload.ts";
import { listFinishedJobs } from "../../federation/list-finished-jobs.ts";
import { listJobCasesPage } from "../../federation/list-job-cases.ts";
import { jobIdParam, parseOr400 } from "../params.ts";

const P = INSTANCE_API_PREFIX;

/**
 * Federation reconciliation routes (Magma; the frontend repairs what a lost callback or queue dropped):
 *   GET magma/finished-jobs/?since=<ISO µs>&after_id=<id>&limit=<n>
 *       1. 200 TFinishedJobsPage: finished jobs after (since, after_id) in (end_time, id) order
 *       2. 400 {code, message} naming the bad parameter
 *   GET magma/jobs/<id>/federation/
 *       1. 200 TNotifyPayload (dataset results)   2. 404 unknown or invisible job
 *   GET magma/jobs/<id>/cases/?after_id=<case id>&limit=<n>
 *       1. 200 TJobCasesPage: the job's cases after that id, in id order (keyset)
 *       2. 400 naming the bad parameter   3. 404 unknown or invisible job
 */
export function registerRestFederationRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  app.get(`${P}/magma/finished-jobs/`, async (req) => {
    const q = parseOr400(ZFinishedJobsQuery, req.query, "query");
    const user = await authenticateToken(ctx.db, req.headers);
    return listFinishedJobs({ db: ctx.db, user, after: q.since ? { since: q.since, after_id: q.after_id } : null, limit: q.limit });
  });
  app.get(`${P}/magma/jobs/:id/federation/`, async (req) => {
    const jobId = jobIdParam((req.params as { id: string }).id);
    const user = await authenticateToken(ctx.db, req.headers);
    return getFederationPayload({ db: ctx.db, user, jobId, instanceName: ctx.config.name });
  });
  app.get(`${P}/magma/jobs/:id/cases/`, async (req) => {
    const jobId = jobIdParam((req.params as { id: string }).id);
    const q = parseOr400(ZJobCasesQuery, req.query, "query");
    const user = await authenticateToken(ctx.db, req.headers);
    return listJobCasesPage({ db: ctx.db, user, jobId, afterId: q.after_id, limit: q.limit });
  });
}
