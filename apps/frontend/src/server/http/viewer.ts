import type { TViewer } from "@magma/db/frontend";
import { resolveViewer } from "../auth/session.ts";
import { db } from "../db.ts";

/**
 * The viewer of a route handler's request (API token or session cookie; null when anonymous).
 * @throws AppError UNAUTHENTICATED for an invalid API token
 */
export function viewerOf(req: Request): Promise<TViewer | null> {
  return resolveViewer(db(), req.headers);
}
