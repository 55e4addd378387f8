import { ZLabCasesPushRequest } from "@magma/protocol";
import { AppError, errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { readBodyLimited } from "~/server/http/read-body";
import { logger } from "~/server/logger";
import { callbackToken } from "~/server/services/receive-callback";
import { authenticateLab, receiveLabCases } from "~/server/services/lab-link";

export const dynamic = "force-dynamic";

/** Largest case push accepted, bytes (5 000 cases with metadata; the lab sends 1 000 per page). */
const MAX_CASES_PUSH_BYTES = 32 * 1024 * 1024;

/**
 * POST /api/federation/labs/<lab>/cases `{pages: [{job_id, after_id, results, next_after_id}]}`
 * (`Authorization: Token <credential>`, the link's credential) — an outbound-only lab pushes the
 * test cases of its huge Finished jobs (issue 13 item 6) by keyset pages. A page is stored only
 * when it starts at the job's stored cursor (exactly once); `next_after_id` null completes the job.
 *
 *  200 {jobs: [{job_id, known, after_id, done}]}   400 bad body (names the field)
 *  401/403 credential   404 unknown lab   413 body too large
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const d = db();
    const instance = await authenticateLab(d, lab, callbackToken(null, req.headers.get("authorization")));
    const body = await readBodyLimited(req, MAX_CASES_PUSH_BYTES, "Cases push body");
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AppError("INVALID_REQUEST", { message: "Cases push body is not JSON: expected {pages: [...]}" });
    }
    const parsed = ZLabCasesPushRequest.safeParse(json);
    if (!parsed.success)
      throw new AppError("INVALID_REQUEST", {
        message: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
      });
    return Response.json(await receiveLabCases(d, instance, parsed.data.pages, logger()), { headers: { "cache-control": "no-store" } });
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "lab cases push refused");
    return errorResponse(e);
  }
}
