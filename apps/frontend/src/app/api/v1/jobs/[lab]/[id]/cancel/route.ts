import { AppError, errorResponse } from "~/server/app-error";
import { env } from "~/env";
import { db } from "~/server/db";
import { viewerOf } from "~/server/http/viewer";
import { logger } from "~/server/logger";
import { cancelFederatedJob } from "~/server/services/cancel-federated-job";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/jobs/<lab>/<id>/cancel — cancels the job (as LAVA's `jobs/<id>/cancel/`), as the user
 * of `Authorization: Token <personal API token>` (or the session cookie): its submitter or a superuser.
 * A lab reached by URL is told at once; an outbound-only lab receives the cancel on its next poll.
 * The job then goes Canceling → Finished/Canceled through the lab's state pushes.
 *
 *  200 {lab, id, status: "sent" | "queued" | "finished", message}
 *  400 bad job id   401 anonymous or invalid token   403 not the submitter nor a superuser
 *  404 unknown lab, or a job the caller may not read   502 the lab could not be told
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string; id: string }> }): Promise<Response> {
  const { lab, id } = await ctx.params;
  try {
    if (!/^\d{1,12}$/.test(id) || Number(id) < 1)
      throw new AppError("INVALID_REQUEST", { message: `job id "${id}" is not a positive number` });
    const viewer = await viewerOf(req);
    logger().info({ lab, jobId: Number(id), user: viewer?.username ?? null }, "cancel job request");
    return Response.json(
      await cancelFederatedJob({ db: db(), lab, jobId: Number(id), viewer, timeoutMs: env().MAGMA_LAB_TIMEOUT_MS, log: logger() }),
    );
  } catch (e) {
    return errorResponse(e);
  }
}
