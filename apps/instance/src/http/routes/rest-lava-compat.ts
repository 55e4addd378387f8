import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, type TSubmitJobResponse } from "@magma/protocol";
import { authenticateToken, requireUser } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { jobToJunit } from "../../exports/junit.ts";
import { buildOpenApiDocument } from "../../exports/openapi.ts";
import { listCasesForExport } from "@magma/db/instance";
import { casesToCsv, casesToYaml } from "../../exports/results-export.ts";
import { getVisibleJob } from "../../jobs/get-job.ts";
import { resubmitJob } from "../../jobs/resubmit-job.ts";
import { jobIdParam } from "../params.ts";

const P = INSTANCE_API_PREFIX;

/**
 * LAVA api/v0.2 routes added for LAVA compatibility:
 *   POST jobs/<id>/resubmit/ → 201 {message, job_ids: [new id]} (Token auth; 404 when not visible)
 *   GET  jobs/<id>/csv/      → application/csv, LAVA's columns, `attachment; filename=job_<id>.csv`
 *   GET  jobs/<id>/yaml/     → application/yaml, LAVA's export_testcase list, `job_<id>.yaml`
 *   GET  jobs/<id>/junit/    → application/xml, JUnit as LAVA's junit_xml export, `job_<id>.xml`
 *   GET  openapi.json        → the OpenAPI 3.1 document of /api/v0.2
 */
export function registerRestLavaCompatRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  app.post(`${P}/jobs/:id/resubmit/`, async (req, reply) => {
    const user = await requireUser(ctx.db, req.headers);
    const id = jobIdParam((req.params as { id: string }).id);
    req.log.info({ jobId: id, by: user.username }, "resubmit job");
    const newId = await resubmitJob(ctx, id, user);
    return reply.status(201).send({ message: "job(s) successfully submitted", job_ids: [newId] } satisfies TSubmitJobResponse);
  });

  const exportRoute = (suffix: string, type: string, ext: string, render: (jobId: number, endTime: Date | null) => Promise<string>) =>
    app.get(`${P}/jobs/:id/${suffix}/`, async (req, reply) => {
      const id = jobIdParam((req.params as { id: string }).id);
      const job = await getVisibleJob(ctx.db, id, await authenticateToken(ctx.db, req.headers));
      return reply.type(type).header("content-disposition", `attachment; filename=job_${id}.${ext}`).send(await render(id, job.endTime));
    });
  exportRoute("csv", "application/csv", "csv", async (id) => casesToCsv(await listCasesForExport(ctx.db, { jobId: id })));
  exportRoute("yaml", "application/yaml", "yaml", async (id) => casesToYaml(await listCasesForExport(ctx.db, { jobId: id })));
  exportRoute("junit", "application/xml", "xml", (id, end) => jobToJunit(ctx.db, id, end));

  let doc: object | null = null;
  app.get(`${P}/openapi.json`, async () => (doc ??= buildOpenApiDocument(ctx.config.publicUrl)));
}
