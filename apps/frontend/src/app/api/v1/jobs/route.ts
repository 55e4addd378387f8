import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { jobToJson } from "~/server/http/job-json";
import { parseJobListParams } from "~/server/services/job-list-query";
import { listJobs } from "~/server/services/list-jobs";
import { viewerOf } from "~/server/http/viewer";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/jobs?lab=&state=&health=&device_type=&job_name=&metadata.KEY=VALUE&limit=&cursor=
 * → 200 {results, next_cursor} (newest submit time first; pass next_cursor back for the next
 * page, null on the last one) | 400 {code, message} naming the bad parameter | 401 invalid token.
 * Only jobs the caller may read: public ones anonymously; with `Authorization: Token <t>` (or a
 * session) also their personal jobs and their groups' jobs; superusers all.
 */
export async function GET(req: Request): Promise<Response> {
  try {
    const query = parseJobListParams(new URL(req.url).searchParams);
    const page = await listJobs({ db: db(), query, viewer: await viewerOf(req) });
    return Response.json({ results: page.results.map(jobToJson), next_cursor: page.nextCursor });
  } catch (e) {
    return errorResponse(e);
  }
}
