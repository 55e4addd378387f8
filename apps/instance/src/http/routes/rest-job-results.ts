import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX } from "@magma/protocol";
import { authenticateToken } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { getJobMetadata } from "../../jobs/get-job.ts";
import { getJobResults, listSuites, listTestCases } from "../../results/get-results.ts";
import { jobIdParam, pagingQuery } from "../params.ts";

const P = INSTANCE_API_PREFIX;

/**
 * Job results routes (parse, then one service of results/get-results.ts or jobs/get-job.ts):
 *   GET jobs/<id>/suites/   DRF page of TTestSuite
 *   GET jobs/<id>/tests/    DRF page of TTestCase (all suites)
 *   GET jobs/<id>/results/  TJobResults: all suites with their cases in one call (Magma)
 *   GET jobs/<id>/metadata/ {metadata: {...}} (the job's `metadata:` mapping)
 */
export function registerRestResultRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  const links = (path: string, total: number, limit: number, offset: number) => {
    const link = (o: number) => `${ctx.config.publicUrl}${path}?limit=${limit}&offset=${o}`;
    return { next: offset + limit < total ? link(offset + limit) : null, previous: offset > 0 ? link(Math.max(0, offset - limit)) : null };
  };
  app.get(`${P}/jobs/:id/suites/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    const user = await authenticateToken(ctx.db, req.headers);
    const { limit, offset } = pagingQuery(req.query);
    const r = await listSuites(ctx.db, user, id, limit, offset);
    return { count: r.count, ...links(`${P}/jobs/${id}/suites/`, r.count, limit, offset), results: r.results };
  });
  app.get(`${P}/jobs/:id/tests/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    const user = await authenticateToken(ctx.db, req.headers);
    const { limit, offset } = pagingQuery(req.query);
    const r = await listTestCases(ctx.db, user, id, limit, offset);
    return { count: r.count, ...links(`${P}/jobs/${id}/tests/`, r.count, limit, offset), results: r.results };
  });
  app.get(`${P}/jobs/:id/results/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    return getJobResults(ctx.db, await authenticateToken(ctx.db, req.headers), id);
  });
  app.get(`${P}/jobs/:id/metadata/`, async (req) => {
    const id = jobIdParam((req.params as { id: string }).id);
    return getJobMetadata(ctx.db, id, await authenticateToken(ctx.db, req.headers));
  });
}
