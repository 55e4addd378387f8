import { FEDERATION_TOKEN_HEADER, type TCallbackAck } from "@magma/protocol";
import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { readBodyLimited } from "~/server/http/read-body";
import { logger } from "~/server/logger";
import { CALLBACK_SIGNATURE_HEADERS, MAX_CALLBACK_BYTES, callbackToken, receiveCallback } from "~/server/services/receive-callback";

export const dynamic = "force-dynamic";

/**
 * POST /api/callbacks/<lab> — a lab's notify callback (LAVA "custom result handler",
 * `content-type: json`, any dataset). Labs configured with a `callback_secret` sign each callback
 * (X-Magma-Timestamp, X-Magma-Delivery, X-Magma-Signature: sha256=HMAC(secret, "<ts>.<body>"));
 * labs without one (plain LAVA) send their token in `x-magma-token` or `Authorization`.
 * The body is read first, within 32 MiB, refused while streaming once over.
 *
 *  202 {queued: true, job_id, signed}   stored in Redis: the lab may forget it
 *  400 {code, message}          body not JSON / not a notify payload (names the field), bad headers
 *  401 / 403                    token or signature missing, stale / wrong
 *  404                          lab not configured
 *  409                          a signed delivery id seen before (replay)
 *  413                          body over the limit
 *  503                          Redis unavailable: the lab must retry
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const body = await readBodyLimited(req, MAX_CALLBACK_BYTES, "Callback body");
    const token = callbackToken(req.headers.get(FEDERATION_TOKEN_HEADER), req.headers.get("authorization"));
    const signature = {
      timestamp: req.headers.get(CALLBACK_SIGNATURE_HEADERS.timestamp),
      delivery: req.headers.get(CALLBACK_SIGNATURE_HEADERS.delivery),
      signature: req.headers.get(CALLBACK_SIGNATURE_HEADERS.signature),
    };
    const { jobId, signed } = await receiveCallback({ db: db(), lab, token, body, signature });
    logger().info({ lab, jobId, signed }, signed ? "callback queued" : "callback queued (unsigned lab: token only)");
    const ack: TCallbackAck = { queued: true, job_id: jobId, signed };
    return Response.json(ack, { status: 202 });
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "callback rejected");
    return errorResponse(e);
  }
}
