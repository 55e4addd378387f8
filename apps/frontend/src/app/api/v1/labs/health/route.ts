import { errorResponse } from "~/server/app-error";
import { db } from "~/server/db";
import { env } from "~/env";
import { viewerOf } from "~/server/http/viewer";
import { getLabHealth } from "~/server/services/get-lab-health";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/labs/health → 200 ZLabHealthBoard: per lab mode and status (reachable, or connected for
 * an outbound-only lab), last contact, workers online and offline, Bad and Maintenance devices,
 * infrastructure-error rate over 24 h and 7 d and its history; per device type across labs the same
 * with its history. Rates count only the jobs the caller may read. 401 for a bad token.
 */
export async function GET(req: Request): Promise<Response> {
  try {
    return Response.json(await getLabHealth({ db: db(), viewer: await viewerOf(req), timeoutMs: env().MAGMA_LAB_TIMEOUT_MS }));
  } catch (e) {
    return errorResponse(e);
  }
}
