import { checkReadiness } from "~/server/services/check-readiness";

export const dynamic = "force-dynamic";

/**
 * GET /readyz → 200 `{status: "ready"}` when the database and Redis answer within 2 s each, else
 * 503 `{status: "unready", reason}` naming the dependency (readiness).
 */
export async function GET(): Promise<Response> {
  const r = await checkReadiness();
  return r.ready ? Response.json({ status: "ready" }) : Response.json({ status: "unready", reason: r.reason }, { status: 503 });
}
