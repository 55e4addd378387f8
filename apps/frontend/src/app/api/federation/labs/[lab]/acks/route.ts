import { ZLabAcksRequest } from "@magma/protocol";
import { AppError, errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { readBodyLimited } from "~/server/http/read-body";
import { logger } from "~/server/logger";
import { callbackToken } from "~/server/services/receive-callback";
import { applyLabAcks, authenticateLab } from "~/server/services/lab-link";

export const dynamic = "force-dynamic";

/**
 * POST /api/federation/labs/<lab>/acks `{acks: [{target_id, job_id} | {target_id, error}],
 * cancels: [{cancel_id, state} | {cancel_id, error}]}` — an outbound-only lab tells which job each
 * submission became (or why it refused it) and which cancels it carried out.
 *
 *  200 {accepted, unknown}   400 bad body (names the field)   401/403 credential   404 unknown lab
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const d = db();
    const instance = await authenticateLab(d, lab, callbackToken(null, req.headers.get("authorization")));
    const body = await readBodyLimited(req, 1024 * 1024, "Acks body");
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AppError("INVALID_REQUEST", { message: "Acks body is not JSON: expected {acks: [...]}" });
    }
    const parsed = ZLabAcksRequest.safeParse(json);
    if (!parsed.success)
      throw new AppError("INVALID_REQUEST", {
        message: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
      });
    return Response.json(await applyLabAcks(d, instance, parsed.data.acks, logger(), parsed.data.cancels));
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "lab acks refused");
    return errorResponse(e);
  }
}
