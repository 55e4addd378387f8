import { AppError, errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { jobDetailToJson } from "~/server/http/job-json";
import { getJob } from "~/server/services/get-job";
import { viewerOf } from "~/server/http/viewer";

export const dynamic = "force-dynamic";

/** GET /api/v1/jobs/<lab>/<id> → 200 job with definition, suites and tests | 400 | 401 invalid token | 404 (also a job the caller may not read). */
export async function GET(req: Request, ctx: { params: Promise<{ lab: string; id: string }> }): Promise<Response> {
  const { lab, id } = await ctx.params;
  try {
    if (!/^\d{1,12}$/.test(id) || Number(id) < 1)
      throw new AppError("INVALID_REQUEST", { message: `job id "${id}" is not a positive number` });
    return Response.json(jobDetailToJson(await getJob({ db: db(), lab, jobId: Number(id), viewer: await viewerOf(req) })));
  } catch (e) {
    return errorResponse(e);
  }
}
