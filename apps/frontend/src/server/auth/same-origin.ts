import { AppError } from "../app-error.ts";

/**
 * Refuses a cookie-authenticated form POST sent from another site (login CSRF, forced logout):
 * a browser always sends `Origin` on POST, and it must name this host.
 * @throws AppError FORBIDDEN naming the foreign origin
 */
export function assertSameOrigin(req: Request): void {
  const origin = req.headers.get("origin");
  if (!origin || origin === "null") return;
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new AppError("FORBIDDEN", { message: `Origin "${origin.slice(0, 100)}" is not a URL` });
  }
  if (host && originHost !== host)
    throw new AppError("FORBIDDEN", { message: `Cross-site request from "${origin.slice(0, 100)}" refused` });
}

/** A local path to go back to after login (`/jobs?x=1`), never another site (`//evil`, `https://…`). */
export function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/";
}
