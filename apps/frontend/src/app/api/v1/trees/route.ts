import { ZNoQuery } from "@magma/protocol";
import { queryRoute } from "~/server/http/query-route";
import { getTrees } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/** GET /api/v1/trees → 200 {results: [{tree, branch, builds, latest: {commit, describe, first_seen}}]} (ZTreeListResponse). */
export const GET = queryRoute(ZNoQuery, (db, _q, visibility) => getTrees(db, visibility));
