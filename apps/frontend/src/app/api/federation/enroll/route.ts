import { ZEnrollRequest } from "@magma/protocol";
import { AppError, errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { readBodyLimited } from "~/server/http/read-body";
import { logger } from "~/server/logger";
import { redeemEnrollment } from "~/server/services/labs";

export const dynamic = "force-dynamic";

/**
 * POST /api/federation/enroll `{token}` — an outbound-only lab's first connection: exchanges the
 * one-time enrollment token (`npm run labs -- enroll NAME`) for its long-lived credential.
 *
 *  200 {lab, credential, signing_secret}   returned once; the frontend keeps only digest / sealed copy
 *  400 {code, message}                     body not `{token}`
 *  401                                     token unknown or already used
 */
export async function POST(req: Request): Promise<Response> {
  try {
    const body = await readBodyLimited(req, 4096, "Enrollment body");
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AppError("INVALID_REQUEST", { message: "Enrollment body is not JSON: expected {token}" });
    }
    const parsed = ZEnrollRequest.safeParse(json);
    if (!parsed.success)
      throw new AppError("INVALID_REQUEST", {
        message: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
      });
    const r = await redeemEnrollment(db(), parsed.data.token);
    logger().info({ lab: r.lab }, "outbound lab enrolled");
    return Response.json(r);
  } catch (e) {
    logger().warn({ err: (e as Error).message }, "enrollment refused");
    return errorResponse(e);
  }
}
