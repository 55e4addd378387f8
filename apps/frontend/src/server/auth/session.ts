import { parseCookie, stringifySetCookie } from "cookie";
import {
  createSession,
  deleteSession,
  findSession,
  findUserCredentials,
  authenticateApiToken,
  type FrontendDb,
  type TViewer,
} from "@magma/db/frontend";
import { AppError } from "../app-error.ts";
import { dummyPasswordHash, generateSecretToken, tokenDigest, verifyPassword } from "./secrets.ts";

/**
 * Browser sessions and API-token authentication.
 *
 * Why this shape: Auth.js's credentials provider refuses database sessions (it only issues JWTs
 * for passwords), and iron-session keeps the whole session in a sealed cookie, so logging out or
 * deleting a user could not end a session server-side. Sessions are therefore rows of the
 * frontend's database (`user_session`), keyed by the SHA-256 digest of a random token held in an
 * HttpOnly, SameSite=Lax cookie — Lucia's documented database-session recipe built on its
 * maintained @oslojs packages. It works the same in App Router route handlers, tRPC's fetch
 * adapter and the CLI, with no extra secret to configure.
 */

/** Name of the session cookie. */
export const SESSION_COOKIE = "magma_session";
/** How long a session lasts after login, in ms (30 days). */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * Checks a user name and password and opens a session.
 * @returns the session token (for the cookie) and its expiry
 * @throws AppError UNAUTHENTICATED "Invalid username or password" (the same for both, and as slow)
 */
export async function login(db: FrontendDb, username: string, password: string): Promise<{ token: string; expiresAt: Date }> {
  const creds = await findUserCredentials(db, username);
  const ok = await verifyPassword(creds?.passwordHash ?? (await dummyPasswordHash()), password);
  if (!creds || !creds.passwordHash || !ok) throw new AppError("UNAUTHENTICATED", { message: "Invalid username or password" });
  const token = generateSecretToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await createSession(db, { digest: tokenDigest(token), userId: creds.userId, expiresAt });
  return { token, expiresAt };
}

/** Ends the session of a cookie token (no-op when unknown). */
export async function logout(db: FrontendDb, token: string): Promise<void> {
  await deleteSession(db, tokenDigest(token));
}

/** `Set-Cookie` value carrying a session token; `secure` when the request came over HTTPS. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return stringifySetCookie({ name: SESSION_COOKIE, value: token, httpOnly: true, sameSite: "lax", path: "/", secure, expires: expiresAt });
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearSessionCookie(secure: boolean): string {
  return stringifySetCookie({ name: SESSION_COOKIE, value: "", httpOnly: true, sameSite: "lax", path: "/", secure, maxAge: 0 });
}

/** The session token in a request's `Cookie` header, or null. */
export function sessionTokenOf(headers: Headers): string | null {
  const raw = headers.get("cookie");
  if (!raw) return null;
  return parseCookie(raw)[SESSION_COOKIE] || null;
}

/** Whether the request was made over HTTPS (directly or behind a proxy that says so). */
export function isHttps(req: Request): boolean {
  return new URL(req.url).protocol === "https:" || req.headers.get("x-forwarded-proto") === "https";
}

/**
 * Who makes a request:
 *  - `Authorization: Token <t>` (or `Bearer <t>`): the owner of that personal API token; a token
 *    that is not valid (never issued, revoked, its user deleted) is refused, never downgraded to
 *    anonymous, so a script learns its token is dead;
 *  - else the `magma_session` cookie: its user while the session lasts; an unknown or expired
 *    session is anonymous (the visitor logs in again);
 *  - else anonymous (null).
 * @throws AppError UNAUTHENTICATED for a malformed or invalid API token
 */
export async function resolveViewer(db: FrontendDb, headers: Headers): Promise<TViewer | null> {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw new AppError("UNAUTHENTICATED", { message: 'Authorization header must be "Token <your API token>"' });
    const viewer = await authenticateApiToken(db, tokenDigest(m[1]!));
    if (!viewer) throw new AppError("UNAUTHENTICATED", { message: "API token is not valid (unknown, revoked, or its user was deleted)" });
    return viewer;
  }
  const token = sessionTokenOf(headers);
  if (!token) return null;
  return (await findSession(db, tokenDigest(token)))?.viewer ?? null;
}

/**
 * The viewer, required.
 * @throws AppError UNAUTHENTICATED "Log in to …" when anonymous
 */
export function requireViewer(viewer: TViewer | null, what: string): TViewer {
  if (!viewer) throw new AppError("UNAUTHENTICATED", { message: `Log in (or send "Authorization: Token <your API token>") to ${what}` });
  return viewer;
}

/** The viewer, required to be a superuser. @throws AppError UNAUTHENTICATED / FORBIDDEN */
export function requireSuperuser(viewer: TViewer | null, what: string): TViewer {
  const v = requireViewer(viewer, what);
  if (!v.isSuperuser) throw new AppError("FORBIDDEN", { message: `Only superusers may ${what}; "${v.username}" is not one` });
  return v;
}
