import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, type TSubmitJobResponse } from "@magma/protocol";
import { authenticateToken, requireUser } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { EXPORT_FORMATS, exportJobResults, type TExportFormat } from "../../exports/export-results.ts";
import { buildOpenApiDocument } from "../../exports/openapi.ts";
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

  for (const [format, { type, ext }] of Object.entries(EXPORT_FORMATS)) {
    app.get(`${P}/jobs/:id/${format}/`, async (req, reply) => {
      const id = jobIdParam((req.params as { id: string }).id);
      const body = await exportJobResults(ctx.db, await authenticateToken(ctx.db, req.headers), id, format as TExportFormat);
      return reply.type(type).header("content-disposition", `attachment; filename=job_${id}.${ext}`).send(body);
    });
  }

  let doc: object | null = null;
  app.get(`${P}/openapi.json`, async () => (doc ??= buildOpenApiDocument(ctx.config.publicUrl)));
}
