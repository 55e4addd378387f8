import { z } from "zod";
import {
  REGRESSION_KINDS,
  SUSPECTS,
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
  listBuilds,
  listRegressions,
  listTrees,
  summariseBuilds,
  testHistory,
  type FrontendDb,
  type TBuildFailure,
  type TBuildJob,
  type TBuildMatrixCell,
  type TJobVisibility,
} from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

/**
 * Builds, regressions, test history and build comparison (issue 12 item 3): query parsing with
 * errors naming the parameter, keyset cursors, and the calls into the repositories.
 *
 * Visibility: every function takes `visibility` (a SQL condition over `federated_job j`, see
 * TJobVisibility) and passes it to every query; routes and tRPC procedures get it from
 * {@link resultsVisibility}, the one place a per-viewer job policy plugs in.
 */

/**
 * Which jobs' results the current viewer may see. The federation has no accounts yet, so every job
 * is public and this returns undefined (no condition); once accounts exist it returns the SQL of
 * the per-viewer job policy, built from the request's session.
 */
export function resultsVisibility(_req?: Request): TJobVisibility {
  return undefined;
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
    if (!allowed.includes(k)) throw new AppError("INVALID_REQUEST", { message: `unknown parameter "${k}" (allowed: ${allowed.join(", ")})` });
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
    const o = z.object({ k: z.string().regex(/^[0-9a-f]{1,2000}$/), i: z.number().int().positive() }).parse(JSON.parse(Buffer.from(s, "base64url").toString("utf8")));
    return { orderKey: o.k, rowId: o.i };
  } catch {
    throw new AppError("INVALID_REQUEST", { message: `cursor "${s.slice(0, 40)}" is not valid: pass next_cursor from the previous page unchanged` });
  }
}

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
});
export const ZHistoryQuery = z.object({
  test: ZName,
  tree: ZName,
  branch: ZName,
  device_type: ZName.optional(),
  limit: limitParam(200, 50),
  cursor: z.string().max(4000).optional(),
});
export const ZCompareQuery = z.object({ tree: ZName, branch: ZName, from: ZName, to: ZName, limit: limitParam(5000, 1000) });
export const ZBuildQuery = z.object({ tree: ZName, branch: ZName, commit: ZName });

/** `GET /api/v1/builds`: a branch's builds, newest first, keyset-paged. */
export async function getBuilds(db: FrontendDb, q: z.output<typeof ZBuildsQuery>, visibility: TJobVisibility): Promise<TBuildListResponse> {
  const page = await listBuilds(db, { tree: q.tree, branch: q.branch }, q.limit, decodeKeyCursor(q.cursor), visibility);
  return { results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/** `GET /api/v1/regressions`: a branch's regressions and fixes, newest build first, keyset-paged. */
export async function getRegressions(db: FrontendDb, q: z.output<typeof ZRegressionsQuery>, visibility: TJobVisibility): Promise<TRegressionListResponse> {
  const page = await listRegressions(
    db,
    { tree: q.tree, branch: q.branch, commit: q.commit, kind: q.kind, suspect: q.suspect, deviceType: q.device_type, lab: q.lab, test: q.test },
    q.limit,
    decodeKeyCursor(q.cursor),
    visibility,
  );
  return { results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/** `GET /api/v1/tests/history`: one test per build (newest first) and lab. */
export async function getTestHistory(db: FrontendDb, q: z.output<typeof ZHistoryQuery>, visibility: TJobVisibility): Promise<TTestHistoryResponse> {
  const page = await testHistory(db, { test: q.test, tree: q.tree, branch: q.branch, deviceType: q.device_type }, q.limit, decodeKeyCursor(q.cursor), visibility);
  return { test: q.test, tree: q.tree, branch: q.branch, results: page.results, next_cursor: encodeKeyCursor(page.nextCursor) };
}

/**
 * `GET /api/v1/builds/compare`: tests whose status differs between two builds of a branch.
 * @throws AppError NOT_FOUND naming the `from`/`to` commit that is not a build of the branch
 */
export async function getBuildCompare(db: FrontendDb, q: z.output<typeof ZCompareQuery>, visibility: TJobVisibility): Promise<TBuildCompareResponse> {
  const [from, to] = await Promise.all([findBuild(db, q.tree, q.branch, q.from, visibility), findBuild(db, q.tree, q.branch, q.to, visibility)]);
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
export async function getBuildPage(db: FrontendDb, q: z.output<typeof ZBuildQuery>, visibility: TJobVisibility): Promise<TBuildPageData> {
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
export async function getTrees(db: FrontendDb, visibility: TJobVisibility) {
  const rows = await listTrees(db, visibility);
  return {
    results: rows.map((r) => ({ tree: r.tree, branch: r.branch, builds: r.builds, latest: { commit: r.latestCommit, describe: r.latestDescribe, first_seen: r.latestFirstSeen } })),
  };
}
