import { randomUUID } from "node:crypto";
import { MAX_DEFINITION_BYTES, ZApiSubmissionRequest } from "@magma/protocol";
import { AppError, errorResponse } from "~/server/app-error";
import { requireViewer } from "~/server/auth/session";
import { env } from "~/env";
import { db } from "~/server/db";
import { submissionToJson } from "~/server/http/submission-json";
import { viewerOf } from "~/server/http/viewer";
import { logger } from "~/server/logger";
import { createSubmission } from "~/server/services/create-submission";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/submissions — submits one LAVA job definition to several labs, as the user of
 * `Authorization: Token <personal API token>` (or the session cookie).
 * Body JSON `{definition, labs: [names] | "any", retry?: {infrastructure: N}}`; `"any"` places one
 * job on the best lab the user may use that offers the device type (idle device first, then the
 * shortest queue); `retry.infrastructure` moves a job that ends Incomplete with an Infrastructure
 * error to another eligible lab, up to N times. Optional `Idempotency-Key` header (a retry with the
 * same key returns the same submission).
 *
 *  201 {id, submitter, labs, retry, targets: [{lab, status: "queued", job_id: null, error, attempts}]}  (200 on a retry)
 *  400 body not JSON / a field wrong (named) / definition invalid (`... @ data['actions'][0]...`)
 *  401 anonymous or invalid token — nothing is stored or queued
 *  400 also: labs "any" and no lab the user may use offers the device type now (each lab named with why)
 *  403 a lab none of the user's groups may use (named)
 *  404 a lab not configured
 */
export async function POST(req: Request): Promise<Response> {
  try {
    const viewer = requireViewer(await viewerOf(req), "submit jobs");
    const length = Number(req.headers.get("content-length") ?? "0");
    if (length > MAX_DEFINITION_BYTES * 2)
      throw new AppError("PAYLOAD_TOO_LARGE", { message: `body is over ${MAX_DEFINITION_BYTES * 2} bytes` });
    let raw: unknown;
    try {
      raw = await req.json();
    } catch (e) {
      throw new AppError("INVALID_REQUEST", { message: `body is not JSON {definition, labs, retry?}: ${(e as Error).message}` });
    }
    const parsed = ZApiSubmissionRequest.safeParse(raw);
    if (!parsed.success) {
      throw new AppError("INVALID_REQUEST", {
        message: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
      });
    }
    const key = req.headers.get("idempotency-key");
    if (key !== null && !/^[\x21-\x7e]{1,100}$/.test(key))
      throw new AppError("INVALID_REQUEST", { message: "Idempotency-Key: 1-100 printable characters" });
    const clientRequestId = key ? `api-${viewer.userId}-${key}` : randomUUID();
    const { submission, created } = await createSubmission({
      db: db(),
      clientRequestId,
      ...parsed.data,
      viewer,
      timeoutMs: env().MAGMA_LAB_TIMEOUT_MS,
    });
    logger().info({ submissionId: submission.id, user: viewer.username, labs: parsed.data.labs, created }, "api submission");
    return Response.json(submissionToJson(submission), { status: created ? 201 : 200 });
  } catch (e) {
    return errorResponse(e);
  }
}
