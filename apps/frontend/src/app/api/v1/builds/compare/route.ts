import { queryRoute } from "~/server/http/query-route";
import { ZCompareQuery, getBuildCompare } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/builds/compare?tree=&branch=&from=<commit>&to=<commit>[&limit=] → 200 {tree, branch,
 * from, to, results: [{test, suite, case, set, lab, device_type, from_status, to_status}]}
 * (ZBuildCompareResponse; status null = not run) | 400 naming the parameter | 404 naming the commit.
 */
export const GET = queryRoute(ZCompareQuery, getBuildCompare);
