import { ZLabLogPushRequest } from "@magma/protocol";
import { AppError, errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { readBodyLimited } from "~/server/http/read-body";
import { logger } from "~/server/logger";
import { callbackToken } from "~/server/services/receive-callback";
import { authenticateLab, receiveLabLogs } from "~/server/services/lab-link";

export const dynamic = "force-dynamic";

/** Largest log push accepted, bytes (1000 lines of 16 KiB messages would not fit: the lab sends smaller chunks). */
const MAX_LOG_PUSH_BYTES = 16 * 1024 * 1024;

/**
 * POST /api/federation/labs/<lab>/logs `{chunks: [{job_id, first_line, lines: [{line,dt,lvl,msg}], end?}]}`
 * (`Authorization: Token <credential>`, the link's credential) — an outbound-only lab pushes its
 * job logs by line range. Each chunk is stored exactly once by line index: lines already stored are
 * skipped, a chunk starting past the stored end is not stored; `end` marks the log complete.
 *
 *  200 {jobs: [{job_id, known, next_line, done}]}   400 bad body (names the field)
 *  401/403 credential   404 unknown lab   413 body too large
 */
export async function POST(req: Request, ctx: { params: Promise<{ lab: string }> }): Promise<Response> {
  const { lab } = await ctx.params;
  try {
    const d = db();
    const instance = await authenticateLab(d, lab, callbackToken(null, req.headers.get("authorization")));
    const body = await readBodyLimited(req, MAX_LOG_PUSH_BYTES, "Log push body");
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AppError("INVALID_REQUEST", { message: "Log push body is not JSON: expected {chunks: [...]}" });
    }
    const parsed = ZLabLogPushRequest.safeParse(json);
    if (!parsed.success)
      throw new AppError("INVALID_REQUEST", {
        message: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
      });
    return Response.json(await receiveLabLogs(d, instance, parsed.data.chunks), { headers: { "cache-control": "no-store" } });
  } catch (e) {
    logger().warn({ lab, err: (e as Error).message }, "lab log push refused");
    return errorResponse(e);
  }
}
