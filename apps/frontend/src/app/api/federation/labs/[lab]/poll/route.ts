import { ZLabWorkQuery } from "@magma/protocol";
import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { logger } from "~/server/logger";
import { parseQuery } from "~/server/services/build-results";
import { callbackToken } from "~/server/services/receive-callback";
import { authenticateLab, pollLabWork } from "~/server/services/lab-link";

export const dynamic = "force-dynamic";

/**
 * GET /api/federation/labs/<lab>/poll?wait=<s> — an outbound-only lab's long poll
 * (`Authorization: Token <credential>`): its queued submissions and cancels, at once when there are
 * some, else none after `wait` seconds (max 30), plus the jobs whose pushed log is not complete
 * (`logs`, with the line to resume from). Work not acknowledged is sent again.
 *
 *  200 TLabWork   401/403 credential missing/wrong   404 unknown lab
 */
export async function GET(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const q = parseQuery(new URL(req.url).searchParams, ZLabWorkQuery);
    const d = db();
    const instance = await authenticateLab(d, lab, callbackToken(null, req.headers.get("authorization")));
    const work = await pollLabWork({ db: d, lab: instance, waitS: q.wait, signal: req.signal });
    if (work.submissions.length || work.cancels.length)
      logger().info(
        { lab, targets: work.submissions.map((s) => s.target_id), cancels: work.cancels.map((c) => c.job_id) },
        "work handed to outbound lab",
      );
    return Response.json(work, { headers: { "cache-control": "no-store" } });
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "lab link poll refused");
    return errorResponse(e);
  }
}
