import { AppError, errorResponse } from "~/server/app-error";
import { requireViewer } from "~/server/auth/session";
import { db } from "~/server/db";
import { submissionToJson } from "~/server/http/submission-json";
import { viewerOf } from "~/server/http/viewer";
import { getSubmission } from "~/server/services/get-submission";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/submissions/<id> → 200 `{id, submitter, labs, retry, targets: [{lab, status, job_id,
 * error, attempts: [{lab, job_id, state, health, error_type}]}]}` for its submitter and superusers | 401 anonymous | 404 unknown or another user's | 400 bad id.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await ctx.params;
  try {
    const viewer = requireViewer(await viewerOf(req), "read submissions");
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw new AppError("INVALID_REQUEST", { message: `submission id "${id.slice(0, 60)}" is not a UUID` });
    return Response.json(submissionToJson(await getSubmission({ db: db(), submissionId: id, viewer })));
  } catch (e) {
    return errorResponse(e);
  }
}
