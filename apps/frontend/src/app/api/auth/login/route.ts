import { AppError, errorResponse } from "~/server/app-error";
import { isHttps, login, sessionCookie } from "~/server/auth/session";
import { assertSameOrigin, safeNext } from "~/server/auth/same-origin";
import { db } from "~/server/db";
import { logger } from "~/server/logger";

export const dynamic = "force-dynamic";

/**
 * POST /api/auth/login — opens a session (HttpOnly cookie `magma_session`).
 *  - HTML form (`application/x-www-form-urlencoded`: username, password, next): 303 to `next`
 *    (a local path), or back to `/login?error=…&next=…` when refused;
 *  - JSON `{username, password}`: 200 `{username}` with the cookie | 401 `{code, message}`.
 */
export async function POST(req: Request): Promise<Response> {
  const isForm = !(req.headers.get("content-type") ?? "").includes("application/json");
  let username = "";
  let next = "/";
  try {
    assertSameOrigin(req);
    let password = "";
    if (isForm) {
      const f = await req.formData();
      username = String(f.get("username") ?? "");
      password = String(f.get("password") ?? "");
      next = safeNext(f.get("next"));
    } else {
      const body = (await req.json().catch(() => null)) as { username?: unknown; password?: unknown } | null;
      if (!body || typeof body.username !== "string" || typeof body.password !== "string") {
        throw new AppError("INVALID_REQUEST", { message: "body must be JSON {username: string, password: string}" });
      }
      ({ username, password } = body as { username: string; password: string });
    }
    if (!username || !password) throw new AppError("UNAUTHENTICATED", { message: "Enter a username and a password" });
    const { token, expiresAt } = await login(db(), username.slice(0, 150), password.slice(0, 1024));
    logger().info({ username }, "login");
    const cookie = sessionCookie(token, expiresAt, isHttps(req));
    if (!isForm) return Response.json({ username }, { headers: { "set-cookie": cookie } });
    return new Response(null, { status: 303, headers: { location: next, "set-cookie": cookie } });
  } catch (e) {
    logger().warn({ username, err: (e as Error).message }, "login refused");
    if (!isForm || !(e instanceof AppError)) return errorResponse(e);
    const q = new URLSearchParams({ error: e.userMessage, next });
    if (username) q.set("username", username.slice(0, 150));
    return new Response(null, { status: 303, headers: { location: `/login?${q}` } });
  }
}
