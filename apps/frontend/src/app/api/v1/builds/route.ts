import { queryRoute } from "~/server/http/query-route";
import { ZBuildsQuery, getBuilds } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/builds?tree=&branch=&limit=&cursor= → 200 {results: [{tree, branch, commit, describe,
 * first_seen, labs: [{lab, jobs, pass, fail, skip, infrastructure_failures, regressions, fixes}], jobs,
 * pass, fail, skip, regressions, fixes}], next_cursor} (ZBuildListResponse), newest build first,
 * keyset-paged like /api/v1/jobs | 400 {code, message} naming the bad parameter.
 */
export const GET = queryRoute(ZBuildsQuery, getBuilds);
