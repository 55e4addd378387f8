import type { InstanceDb, User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";

/**
 * Resolves an `Authorization: Token <secret>` header (LAVA's REST scheme) to its user.
 * @param header the raw Authorization header, or undefined for an anonymous request
 * @returns the user, or null when no header was sent (anonymous)
 * @throws AppError UNAUTHENTICATED `Invalid token.` for a malformed header or an unknown secret
 */
export async function authenticateToken(db: InstanceDb, header: string | undefined): Promise<User | null> {
  if (!header) return null;
  const m = /^Token\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AppError("UNAUTHENTICATED", "Invalid token header. Expected 'Authorization: Token <secret>'.");
  // one query: the user owning the token
  const user = await db.user.findFirst({ where: { tokens: { some: { secret: m[1]! } } } });
  if (!user) throw new AppError("UNAUTHENTICATED", "Invalid token.");
  return user;
}

/**
 * Like {@link authenticateToken} but for writes: anonymous is refused.
 * @throws AppError UNAUTHENTICATED `Authentication credentials were not provided.` (LAVA's DRF text)
 */
export async function requireUser(db: InstanceDb, header: string | undefined): Promise<User> {
  const user = await authenticateToken(db, header);
  if (!user) throw new AppError("UNAUTHENTICATED", "Authentication credentials were not provided.");
  return user;
}
