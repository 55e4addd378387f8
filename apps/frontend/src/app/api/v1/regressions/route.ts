import { queryRoute } from "~/server/http/query-route";
import { ZRegressionsQuery, getRegressions, regressionsCsv } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/regressions?tree=&branch=[&commit=][&kind=regression|fix][&suspect=code|lab|unknown]
 * [&device_type=][&lab=][&test=][&limit=][&cursor=] → 200 {results: [{kind, test, suite, case, set,
 * tree, branch, from_commit, to_commit, device_type, labs, suspect, jobs}], next_cursor}
 * (ZRegressionListResponse), newest build first; `format=csv` gives the page as CSV (next cursor in
 * the x-next-cursor header) | 400 {code, message} naming the bad parameter.
 */
export const GET = queryRoute(ZRegressionsQuery, getRegressions, { body: regressionsCsv, filename: "regressions.csv" });
