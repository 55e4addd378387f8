import { queryRoute } from "~/server/http/query-route";
import { ZKcidbQuery, getKcidb } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/kcidb?tree=&branch=&commit= (one build) or ?since=<ISO>[&until=<ISO>][&tree=][&branch=]
 * (builds first seen in the window) → 200 KCIDB I/O schema v4 JSON {version, checkouts, builds, tests}
 * (ZKcidbExport) | 400 naming the parameter | 404 naming the commit.
 */
export const GET = queryRoute(ZKcidbQuery, (db, q, visibility, req) => getKcidb(db, q, visibility, new URL(req.url).origin));
