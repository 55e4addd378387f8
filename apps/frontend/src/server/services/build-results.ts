import { z } from "zod";
import {
  REGRESSION_KINDS,
  SUSPECTS,
  testPath,
  type TKcidbExport,
  type TBuildCompareResponse,
  type TBuildListResponse,
  type TBuildSummary,
  type TRegressionListResponse,
  type TTestHistoryResponse,
} from "@magma/protocol";
import {
  buildDetail,
  compareBuilds,
  findBuild,
  listBuildCases,
  listBuilds,
  listBuildsSeenBetween,
  listRegressions,
  listTrees,
  summariseBuilds,
  testHistory,
  type FrontendDb,
  type TBuildFailure,
  type TBuildJob,
  type TBuildMatrixCell,
  type TBuildRecord,
  type TResultsVisibility,
  type TViewer,
  visibleJobsSql,
} from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

/**
 * Builds, regressions, test history and build comparison (issue 12 item 3): query parsing with
 * errors naming the parameter, keyset cursors, and the calls into the repositories.
 *
 * Visibility: every function takes `visibility` (a SQL condition over `federated_job j`, see
 * TResultsVisibility) and passes it to every query; routes and tRPC procedures get it from
 * {@link resultsVisibility}, the one place a per-viewer job policy plugs in.
 */

/**
 * Which jobs' results `viewer` may see: the federation's one job policy (`visibleJobsSql`: public to
 * all, personal to the submitter, group jobs to members, all to superusers) as a SQL condition over
 * `federated_job j`. A build, regression or history row shows only when one of its jobs is visible.
 */
export function resultsVisibility(viewer: TViewer | null): TResultsVisibility {
  return visibleJobsSql(viewer);
}

const ZName = z.string().min(1, "must not be empty").max(500);
const limitParam = (max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a number between 1 and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be between 1 and ${max}`).max(max, `must be between 1 and ${max}`))
    .default(dflt);

/**
 * Parses URL query parameters with a zod object keyed by parameter name (all values strings).
 * Empty values count as absent.
 * @throws AppError INVALID_REQUEST naming each unknown, repeated, missing or bad parameter
 */
export function parseQuery<S extends z.ZodObject>(params: URLSearchParams, schema: S): z.output<S> {
  const allowed = Object.keys(schema.shape);
  const q: Record<string, string> = {};
  for (const [k, v] of params) {
    if (!allowed.includes(k))
      throw new AppError("INVALID_REQUEST", { message: `unknown parameter "${k}" (allowed: ${allowed.join(", ")})` });
    if (k in q) throw new AppError("INVALID_REQUEST", { message: `parameter "${k}" is given more than once` });
    if (v !== "") q[k] = v;
  }
  const parsed = schema.safeParse(q);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => {
        const key = String(i.path[0] ?? "");
        return key in q ? `${key} "${q[key]!.slice(0, 100)}": ${i.message}` : `${key}: required`;
      })
      .join("; ");
    throw new AppError("INVALID_REQUEST", { message: `bad query parameter: ${problems}` });
  }
  return parsed.data;
}

/** Opaque keyset cursor: base64url of `{k: order key, i: row id}`. */
export function encodeKeyCursor(c: { orderKey: string; rowId: number } | null): string | null {
  return c ? Buffer.from(JSON.stringify({ k: c.orderKey, i: c.rowId })).toString("base64url") : null;
}

/** @throws AppError INVALID_REQUEST "cursor … is not valid" */
export function decodeKeyCursor(s: string | undefined): { orderKey: string; rowId: number } | null {
  if (!s) return null;
  try {
    const o = z
      .object({ k: z.string().regex(/^[0-9a-f]{1,2000}$/), i: z.number().int().positive() })
      .parse(JSON.parse(Buffer.from(s, "base64url").toString("utf8")));
    return { orderKey: o.k, rowId: o.i };
  } catch {
    throw new AppError("INVALID_REQUEST", {
      message: `cursor "${s.slice(0, 40)}" is not valid: pass next_cursor from the previous page unchanged`,
    });
  }
}

const ZFormat = z.enum(["json", "csv"]).default("json");

export const ZBuildsQuery = z.object({ tree: ZName, branch: ZName, limit: limitParam(200, 50), cursor: z.string().max(4000).optional() });
export const ZRegressionsQuery = z.object({
  tree: ZName,
  branch: ZName,
  commit: ZName.optional(),
  kind: z.enum(REGRESSION_KINDS).optional(),
  suspect: z.enum(SUSPECTS).optional(),
  device_type: ZName.optional(),
  lab: ZName.optional(),
  test: ZName.optional(),
  limit: limitParam(1000, 200),
  cursor: z.string().max(4000).optional(),
  format: ZFormat,
});
export const ZHistoryQuery = z.object({
  test: ZName,
  tree: ZName,
  branch: ZName,
  device_type: ZName.optional(),
  limit: limitParam(200, 50),
  cursor: z.string().max(4000).optional(),
  format: ZFormat,
});
export const ZCompareQuery = z.object({ tree: ZName, branch: ZName, from: ZName, to: ZName, limit: limitParam(5000, 1000) });
export const ZBuildQuery = z.object({ tree: ZName, branch: ZName, commit: ZName });

/** `GET /api/v1/builds`: a branch's builds, newest first, keyset-paged. */
export async function getBuilds(
  db: FrontendDb,
  q: z.output<typeof ZBuildsQuery>,
  visibility: TResultsVisibility,
): Promise<TBuildListResponse> {
  const page = await listBuilds(db, { tree: q.tree, branch: q.branch }, q.limit, decodeKeyCursor(q.cursor), visibility);
  return { results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/** `GET /api/v1/regressions`: a branch's regressions and fixes, newest build first, keyset-paged. */
export async function getRegressions(
  db: FrontendDb,
  q: Omit<z.output<typeof ZRegressionsQuery>, "format">,
  visibility: TResultsVisibility,
): Promise<TRegressionListResponse> {
  const page = await listRegressions(
    db,
    {
      tree: q.tree,
      branch: q.branch,
      commit: q.commit,
      kind: q.kind,
      suspect: q.suspect,
      deviceType: q.device_type,
      lab: q.lab,
      test: q.test,
    },
    q.limit,
    decodeKeyCursor(q.cursor),
    visibility,
  );
  return { results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/** `GET /api/v1/tests/history`: one test per build (newest first) and lab. */
export async function getTestHistory(
  db: FrontendDb,
  q: Omit<z.output<typeof ZHistoryQuery>, "format">,
  visibility: TResultsVisibility,
): Promise<TTestHistoryResponse> {
  const page = await testHistory(
    db,
    { test: q.test, tree: q.tree, branch: q.branch, deviceType: q.device_type },
    q.limit,
    decodeKeyCursor(q.cursor),
    visibility,
  );
  return { test: q.test, tree: q.tree, branch: q.branch, results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/**
 * `GET /api/v1/builds/compare`: tests whose status differs between two builds of a branch.
 * @throws AppError NOT_FOUND naming the `from`/`to` commit that is not a build of the branch
 */
export async function getBuildCompare(
  db: FrontendDb,
  q: z.output<typeof ZCompareQuery>,
  visibility: TResultsVisibility,
): Promise<TBuildCompareResponse> {
  const [from, to] = await Promise.all([
    findBuild(db, q.tree, q.branch, q.from, visibility),
    findBuild(db, q.tree, q.branch, q.to, visibility),
  ]);
  for (const [name, b, commit] of [
    ["from", from, q.from],
    ["to", to, q.to],
  ] as const) {
    if (!b) throw new AppError("NOT_FOUND", { message: `${name} "${commit}" is not a build of ${q.tree}/${q.branch}` });
  }
  return { tree: q.tree, branch: q.branch, from: q.from, to: q.to, results: await compareBuilds(db, from!, to!, q.limit, visibility) };
}

/** A build page's data: summary, labs × device types × suites matrix, failing tests, jobs, regressions and fixes. */
export interface TBuildPageData {
  build: TBuildSummary;
  matrix: TBuildMatrixCell[];
  failures: TBuildFailure[];
  jobs: TBuildJob[];
  regressions: TRegressionListResponse["results"];
}

/**
 * One build with everything its page shows.
 * @throws AppError NOT_FOUND when the commit is not a build of the branch
 */
export async function getBuildPage(
  db: FrontendDb,
  q: z.output<typeof ZBuildQuery>,
  visibility: TResultsVisibility,
): Promise<TBuildPageData> {
  const build = await findBuild(db, q.tree, q.branch, q.commit, visibility);
  if (!build) throw new AppError("NOT_FOUND", { message: `commit "${q.commit}" is not a build of ${q.tree}/${q.branch}` });
  const [summary, detail, regs] = await Promise.all([
    summariseBuilds(db, [build], visibility),
    buildDetail(db, build, visibility),
    listRegressions(db, { tree: q.tree, branch: q.branch, commit: q.commit }, 1000, null, visibility),
  ]);
  return { build: summary[0]!, ...detail, regressions: regs.results };
}

/** Trees and branches with their build counts and newest build (the trees page). */
export async function getTrees(db: FrontendDb, visibility: TResultsVisibility) {
  const rows = await listTrees(db, visibility);
  return {
    results: rows.map((r) => ({
      tree: r.tree,
      branch: r.branch,
      builds: r.builds,
      latest: { commit: r.latestCommit, describe: r.latestDescribe, first_seen: r.latestFirstSeen },
    })),
  };
}

/** A CSV cell, always quoted (as Python's csv.QUOTE_ALL, like the instance's results export). */
const csvCell = (v: string | number | null) => `"${String(v ?? "").replace(/"/g, '""')}"`;
const csv = (rows: (string | number | null)[][]) => rows.map((r) => r.map(csvCell).join(",") + "\r\n").join("");

/** Regressions as CSV: one row per regression/fix; labs and job URLs space-separated. */
export function regressionsCsv(r: TRegressionListResponse): string {
  return csv([
    ["kind", "test", "suite", "case", "set", "tree", "branch", "from_commit", "to_commit", "device_type", "labs", "suspect", "jobs"],
    ...r.results.map((x) => [
      x.kind,
      x.test,
      x.suite,
      x.case,
      x.set,
      x.tree,
      x.branch,
      x.from_commit,
      x.to_commit,
      x.device_type,
      x.labs.join(" "),
      x.suspect,
      x.jobs.map((j) => j.url).join(" "),
    ]),
  ]);
}

/** A test's history as CSV: one row per build × lab × device type. */
export function historyCsv(h: TTestHistoryResponse): string {
  return csv([
    ["test", "tree", "branch", "commit", "describe", "first_seen", "lab", "device_type", "result", "pass", "fail", "skip", "jobs"],
    ...h.results.flatMap((b) =>
      b.labs.map((c) => [
        h.test,
        h.tree,
        h.branch,
        b.commit,
        b.describe,
        b.first_seen,
        c.lab,
        c.device_type,
        c.result,
        c.pass,
        c.fail,
        c.skip,
        c.jobs.map((j) => j.url).join(" "),
      ]),
    ),
  ]);
}

export const ZKcidbQuery = z.object({
  tree: ZName.optional(),
  branch: ZName.optional(),
  commit: ZName.optional(),
  since: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z" }).optional(),
  until: z.iso.datetime({ offset: true, message: "must be an ISO 8601 time, e.g. 2026-12-02T00:00:00Z" }).optional(),
});

/** Most builds and test cases in one KCIDB export. */
const KCIDB_MAX_BUILDS = 500;
const KCIDB_MAX_TESTS = 200_000;

/**
 * `GET /api/v1/kcidb`: a build (tree, branch, commit) or the builds first seen in a time window
 * (since[, until], optionally of one tree/branch) as KCIDB I/O schema v4 JSON (see ZKcidbExport),
 * for `kcidb-submit`. `baseUrl` is this frontend's origin (log URLs point at its job pages).
 * @throws AppError INVALID_REQUEST naming the missing/bad parameter or a too-large window;
 *         NOT_FOUND for an unknown commit
 */
export async function getKcidb(
  db: FrontendDb,
  q: z.output<typeof ZKcidbQuery>,
  visibility: TResultsVisibility,
  baseUrl: string,
): Promise<TKcidbExport> {
  let builds: TBuildRecord[];
  if (q.commit) {
    if (!q.tree || !q.branch)
      throw new AppError("INVALID_REQUEST", { message: `bad query parameter: ${!q.tree ? "tree" : "branch"}: required with commit` });
    const b = await findBuild(db, q.tree, q.branch, q.commit, visibility);
    if (!b) throw new AppError("NOT_FOUND", { message: `commit "${q.commit}" is not a build of ${q.tree}/${q.branch}` });
    builds = [b];
  } else {
    if (!q.since)
      throw new AppError("INVALID_REQUEST", { message: "bad query parameter: since: required without commit (a build or a time window)" });
    builds = await listBuildsSeenBetween(
      db,
      { since: new Date(q.since), until: q.until ? new Date(q.until) : new Date(), tree: q.tree, branch: q.branch },
      KCIDB_MAX_BUILDS + 1,
      visibility,
    );
    if (builds.length > KCIDB_MAX_BUILDS)
      throw new AppError("INVALID_REQUEST", { message: `since/until: more than ${KCIDB_MAX_BUILDS} builds in this window; narrow it` });
  }
  const cases = await listBuildCases(
    db,
    builds.map((b) => b.id),
    KCIDB_MAX_TESTS + 1,
    visibility,
  );
  if (cases.length > KCIDB_MAX_TESTS)
    throw new AppError("INVALID_REQUEST", {
      message: `more than ${KCIDB_MAX_TESTS} test cases to export; narrow the window or pick one commit`,
    });
  const origin = "magma";
  const checkoutId = new Map(builds.map((b) => [b.id, `${origin}:${b.tree}:${b.branch}:${b.commit}`]));
  const kbuilds = new Map<string, TKcidbExport["builds"][number]>();
  const tests: TKcidbExport["tests"] = [];
  for (const c of cases) {
    const checkout = checkoutId.get(c.buildId)!;
    const buildId = `${checkout}:${c.lab}:${c.deviceType}`;
    if (!kbuilds.has(buildId))
      kbuilds.set(buildId, { id: buildId, checkout_id: checkout, origin, comment: `tested on ${c.lab} (${c.deviceType})`, valid: true });
    const infra = c.jobHealth !== "Complete" || c.jobErrorType === "Infrastructure";
    const status = infra ? "ERROR" : c.result === "pass" ? "PASS" : c.result === "fail" ? "FAIL" : c.result === "skip" ? "SKIP" : "ERROR";
    tests.push({
      id: `${origin}:${c.lab}:${c.jobId}:${c.caseId}`,
      build_id: buildId,
      origin,
      path: testPath(c.suite, c.name, c.testSet),
      status,
      log_url: `${baseUrl}/jobs/${encodeURIComponent(c.lab)}/${c.jobId}${c.logStartLine !== null ? `#L${c.logStartLine}` : ""}`,
      ...(c.startTime ? { start_time: c.startTime } : {}),
      environment: { comment: `${c.lab} ${c.deviceType}` },
      misc: { lab: c.lab, job_id: c.jobId, device_type: c.deviceType },
    });
  }
  return {
    version: { major: 4, minor: 3 },
    checkouts: builds.map((b) => ({
      id: checkoutId.get(b.id)!,
      origin,
      tree_name: b.tree,
      ...(b.url ? { git_repository_url: b.url } : {}),
      git_repository_branch: b.branch,
      git_commit_hash: b.commit,
      ...(b.describe ? { git_commit_name: b.describe } : {}),
      start_time: b.firstSeen,
      valid: true,
    })),
    builds: [...kbuilds.values()],
    tests,
  };
}
