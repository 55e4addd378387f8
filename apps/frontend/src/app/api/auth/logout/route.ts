import { errorResponse } from "~/server/app-error";
import { clearSessionCookie, isHttps, logout, sessionTokenOf } from "~/server/auth/session";
import { assertSameOrigin } from "~/server/auth/same-origin";
import { db } from "~/server/db";

export const dynamic = "force-dynamic";

/** POST /api/auth/logout — ends the session (deleted from the database) and clears the cookie; 303 to `/`. */
export async function POST(req: Request): Promise<Response> {
  try {
    assertSameOrigin(req);
    const token = sessionTokenOf(req.headers);
    if (token) await logout(db(), token);
    return new Response(null, { status: 303, headers: { location: "/", "set-cookie": clearSessionCookie(isHttps(req)) } });
  } catch (e) {
    return errorResponse(e);
  }
}
