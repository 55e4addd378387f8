import { FEDERATION_TOKEN_HEADER } from "@magma/protocol";
import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { logger } from "~/server/logger";
import { callbackToken, receiveCallback } from "~/server/services/receive-callback";

export const dynamic = "force-dynamic";

/**
 * POST /api/callbacks/<lab> — a lab's notify callback (LAVA "custom result handler",
 * `content-type: json`, any dataset). Token in `x-magma-token` or `Authorization`.
 *
 *  202 {queued: true, job_id}   stored in Redis: the lab may forget it
 *  400 {code, message}          body not JSON / not a notify payload (names the field)
 *  401 / 403                    token missing / wrong
 *  404                          lab not configured
 *  503                          Redis unavailable: the lab must retry
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const token = callbackToken(req.headers.get(FEDERATION_TOKEN_HEADER), req.headers.get("authorization"));
    const { jobId } = await receiveCallback({ db: db(), lab, token, body: await req.text() });
    logger().info({ lab, jobId }, "callback queued");
    return Response.json({ queued: true, job_id: jobId }, { status: 202 });
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "callback rejected");
    return errorResponse(e);
  }
}
