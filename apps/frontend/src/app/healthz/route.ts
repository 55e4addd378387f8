export const dynamic = "force-dynamic";

/** GET /healthz → 200 `{status: "ok"}` while the server process answers (liveness). */
export function GET(): Response {
  return Response.json({ status: "ok" });
}
