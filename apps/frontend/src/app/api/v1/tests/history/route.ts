import { queryRoute } from "~/server/http/query-route";
import { ZHistoryQuery, getTestHistory, historyCsv } from "~/server/services/build-results";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/tests/history?test=<suite.case[.set]>&tree=&branch=[&device_type=][&limit=][&cursor=]
 * → 200 {test, tree, branch, results: [{commit, describe, first_seen, labs: [{lab, device_type,
 * result, pass, fail, skip, jobs: [{lab, id, url}]}]}], next_cursor} (ZTestHistoryResponse), newest
 * build first; `format=csv` gives the page as CSV | 400 {code, message} naming the bad parameter.
 */
export const GET = queryRoute(ZHistoryQuery, getTestHistory, { body: historyCsv, filename: "test-history.csv" });
