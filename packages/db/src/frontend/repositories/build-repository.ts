import { Prisma } from "../../generated/frontend/client";
import type { TBuildCompareResponse, TBuildLabSummary, TBuildSummary, TJobLink, TRegression, TTestHistoryResponse } from "@magma/protocol";
import type { FrontendDb } from "../client.ts";

/**
 * Which federated jobs the viewer may see: a SQL condition over `federated_job` aliased `j`
 * (e.g. `Prisma.sql\`j.visibility = 'public'\``), or undefined for every job. Every read below takes
 * it as its last argument and applies it the same way: builds with no visible job are hidden,
 * counts sum visible jobs only, a regression/status row shows only when one of its jobs is visible
 * and job links list visible jobs only.
 */
/** A condition over `federated_job j` keeping the jobs a viewer may read (job-visibility.ts `visibleJobsSql`); undefined: every job. */
export type TResultsVisibility = Prisma.Sql | undefined;

const visible = (v: TResultsVisibility) => v ?? Prisma.sql`TRUE`;
/** `EXISTS` a visible job among an int[] of federated_job ids (TRUE when no visibility rule). */
const anyVisible = (ids: Prisma.Sql, v: TResultsVisibility) =>
  v ? Prisma.sql`EXISTS (SELECT 1 FROM federated_job j WHERE j.id = ANY(${ids}) AND ${v})` : Prisma.sql`TRUE`;
/** JSON array of {lab, id} of the visible jobs among an int[] of federated_job ids. */
const jobLinksSql = (ids: Prisma.Sql, v: TResultsVisibility) => Prisma.sql`(
  SELECT COALESCE(json_agg(json_build_object('lab', i.name, 'id', j.remote_id) ORDER BY i.name, j.remote_id), '[]'::json)
  FROM federated_job j JOIN instance i ON i.id = j.instance_id WHERE j.id = ANY(${ids}) AND ${visible(v)})`;
const links = (a: { lab: string; id: number }[]): TJobLink[] =>
  a.map((x) => ({ lab: x.lab, id: x.id, url: `/jobs/${encodeURIComponent(x.lab)}/${x.id}` }));

/** Keyset position in a newest-first list of builds: the last row's order key and build id. */
export interface TBuildCursor {
  orderKey: string;
  rowId: number;
}

/** A build as stored (internal id included, for pages that load more about it). */
export interface TBuildRecord {
  id: number;
  tree: string;
  branch: string;
  commit: string;
  describe: string | null;
  url: string | null;
  kernelVersion: string | null;
  firstSeen: string;
  orderKey: string;
}

type BuildRow = {
  id: number;
  tree: string;
  branch: string;
  commit: string;
  describe: string | null;
  url: string | null;
  kernel_version: string | null;
  first_seen: Date;
  order_key: string;
};
const toRecord = (b: BuildRow): TBuildRecord => ({
  id: b.id,
  tree: b.tree,
  branch: b.branch,
  commit: b.commit,
  describe: b.describe,
  url: b.url,
  kernelVersion: b.kernel_version,
  firstSeen: b.first_seen.toISOString(),
  orderKey: b.order_key,
});

/** A build by (tree, branch, commit), or null. */
export async function findBuild(
  db: FrontendDb,
  tree: string,
  branch: string,
  commit: string,
  v?: TResultsVisibility,
): Promise<TBuildRecord | null> {
  const rows = await db.$queryRaw<BuildRow[]>`
    SELECT b.* FROM build b WHERE b.tree = ${tree} AND b.branch = ${branch} AND b.commit = ${commit}
      AND (${v ? Prisma.sql`EXISTS (SELECT 1 FROM federated_job j WHERE j.build_id = b.id AND ${v})` : Prisma.sql`TRUE`})`;
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Trees and their branches with build counts and the newest build of each, by tree then branch. */
export async function listTrees(
  db: FrontendDb,
  v?: TResultsVisibility,
  limit = 500,
): Promise<
  { tree: string; branch: string; builds: number; latestCommit: string; latestDescribe: string | null; latestFirstSeen: string }[]
> {
  const rows = await db.$queryRaw<
    { tree: string; branch: string; builds: number; commit: string; describe: string | null; first_seen: Date }[]
  >`
    WITH vb AS (
      SELECT b.* FROM build b
      WHERE ${v ? Prisma.sql`EXISTS (SELECT 1 FROM federated_job j WHERE j.build_id = b.id AND ${v})` : Prisma.sql`TRUE`}
    )
    SELECT DISTINCT ON (vb.tree, vb.branch) vb.tree, vb.branch, COUNT(*) OVER (PARTITION BY vb.tree, vb.branch)::int AS builds,
           vb.commit, vb.describe, vb.first_seen
    FROM vb ORDER BY vb.tree, vb.branch, vb.order_key DESC, vb.id DESC
    LIMIT ${limit}`;
  return rows.map((r) => ({
    tree: r.tree,
    branch: r.branch,
    builds: r.builds,
    latestCommit: r.commit,
    latestDescribe: r.describe,
    latestFirstSeen: r.first_seen.toISOString(),
  }));
}

/**
 * Summaries of builds by id (jobs, case counts of Complete jobs, infrastructure failures,
 * regressions and fixes, in total and per lab), in the order of `ids`.
 */
export async function summariseBuilds(db: FrontendDb, builds: TBuildRecord[], v?: TResultsVisibility): Promise<TBuildSummary[]> {
  const ids = builds.map((b) => b.id);
  if (!ids.length) return [];
  const [jobs, regs, totals] = await Promise.all([
    db.$queryRaw<{ build_id: number; lab: string; jobs: number; pass: number; fail: number; skip: number; infra: number }[]>`
      SELECT j.build_id, i.name AS lab, COUNT(*)::int AS jobs,
             COALESCE(SUM(j.pass_count) FILTER (WHERE j.health = 'Complete' AND j.error_type IS DISTINCT FROM 'Infrastructure'), 0)::int AS pass,
             COALESCE(SUM(j.fail_count) FILTER (WHERE j.health = 'Complete' AND j.error_type IS DISTINCT FROM 'Infrastructure'), 0)::int AS fail,
             COALESCE(SUM(j.skip_count) FILTER (WHERE j.health = 'Complete' AND j.error_type IS DISTINCT FROM 'Infrastructure'), 0)::int AS skip,
             COUNT(*) FILTER (WHERE j.health = 'Incomplete' OR j.error_type = 'Infrastructure')::int AS infra
      FROM federated_job j JOIN instance i ON i.id = j.instance_id
      WHERE j.build_id = ANY(${ids}::int[]) AND ${visible(v)}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    db.$queryRaw<{ build_id: number; lab: string; regressions: number; fixes: number }[]>`
      SELECT r.to_build_id AS build_id, l.lab, COUNT(*) FILTER (WHERE r.kind = 'regression')::int AS regressions,
             COUNT(*) FILTER (WHERE r.kind = 'fix')::int AS fixes
      FROM regression r CROSS JOIN unnest(r.labs) AS l(lab)
      WHERE r.to_build_id = ANY(${ids}::int[]) AND ${anyVisible(Prisma.sql`r.job_ids`, v)}
      GROUP BY 1, 2`,
    db.$queryRaw<{ build_id: number; regressions: number; fixes: number }[]>`
      SELECT r.to_build_id AS build_id, COUNT(*) FILTER (WHERE r.kind = 'regression')::int AS regressions,
             COUNT(*) FILTER (WHERE r.kind = 'fix')::int AS fixes
      FROM regression r
      WHERE r.to_build_id = ANY(${ids}::int[]) AND ${anyVisible(Prisma.sql`r.job_ids`, v)}
      GROUP BY 1`,
  ]);
  return builds.map((b) => {
    const labs = new Map<string, TBuildLabSummary>();
    const lab = (name: string) => {
      let l = labs.get(name);
      if (!l) labs.set(name, (l = { lab: name, jobs: 0, pass: 0, fail: 0, skip: 0, infrastructure_failures: 0, regressions: 0, fixes: 0 }));
      return l;
    };
    for (const r of jobs.filter((x) => x.build_id === b.id))
      Object.assign(lab(r.lab), { jobs: r.jobs, pass: r.pass, fail: r.fail, skip: r.skip, infrastructure_failures: r.infra });
    for (const r of regs.filter((x) => x.build_id === b.id)) Object.assign(lab(r.lab), { regressions: r.regressions, fixes: r.fixes });
    const list = [...labs.values()].sort((x, y) => x.lab.localeCompare(y.lab));
    const t = totals.find((x) => x.build_id === b.id);
    return {
      tree: b.tree,
      branch: b.branch,
      commit: b.commit,
      describe: b.describe,
      url: b.url,
      kernel_version: b.kernelVersion,
      first_seen: b.firstSeen,
      labs: list,
      jobs: list.reduce((a, l) => a + l.jobs, 0),
      pass: list.reduce((a, l) => a + l.pass, 0),
      fail: list.reduce((a, l) => a + l.fail, 0),
      skip: list.reduce((a, l) => a + l.skip, 0),
      regressions: t?.regressions ?? 0,
      fixes: t?.fixes ?? 0,
    };
  });
}

/**
 * One page of a branch's builds, newest first (order key, then id, descending; see buildOrderKey),
 * by keyset like listFederatedJobs.
 * @param limit rows per page (1–200)
 */
export async function listBuilds(
  db: FrontendDb,
  filter: { tree: string; branch: string },
  limit: number,
  cursor: TBuildCursor | null,
  v?: TResultsVisibility,
): Promise<{ results: TBuildSummary[]; records: TBuildRecord[]; nextCursor: TBuildCursor | null }> {
  const rows = await db.$queryRaw<BuildRow[]>`
    SELECT b.* FROM build b
    WHERE b.tree = ${filter.tree} AND b.branch = ${filter.branch}
      ${cursor ? Prisma.sql`AND (b.order_key, b.id) < (${cursor.orderKey}, ${cursor.rowId})` : Prisma.empty}
      AND ${v ? Prisma.sql`EXISTS (SELECT 1 FROM federated_job j WHERE j.build_id = b.id AND ${v})` : Prisma.sql`TRUE`}
    ORDER BY b.order_key DESC, b.id DESC
    LIMIT ${limit + 1}`;
  const records = rows.slice(0, limit).map(toRecord);
  const last = records[records.length - 1];
  return {
    results: await summariseBuilds(db, records, v),
    records,
    nextCursor: rows.length > limit && last ? { orderKey: last.orderKey, rowId: last.id } : null,
  };
}

/** Filters of the regressions list; tree and branch required, the rest optional (AND). */
export interface TRegressionFilter {
  tree: string;
  branch: string;
  /** Only regressions/fixes INTO this build. */
  commit?: string;
  kind?: "regression" | "fix";
  suspect?: "code" | "lab" | "unknown";
  deviceType?: string;
  /** Only rows whose `labs` include this lab. */
  lab?: string;
  /** Exact `suite.case[.set]`. */
  test?: string;
}

/** Keyset position in the regressions list (newest to-build first): the last row's order key and id. */
export interface TRegressionCursor {
  orderKey: string;
  rowId: number;
}

/**
 * Regressions and fixes of a branch, newest to-build first (then device type, test), by keyset.
 * @param limit rows per page (1–1000)
 */
export async function listRegressions(
  db: FrontendDb,
  f: TRegressionFilter,
  limit: number,
  cursor: TRegressionCursor | null,
  v?: TResultsVisibility,
): Promise<{ results: TRegression[]; nextCursor: TRegressionCursor | null }> {
  const c: Prisma.Sql[] = [Prisma.sql`r.tree = ${f.tree}`, Prisma.sql`r.branch = ${f.branch}`];
  if (f.commit) c.push(Prisma.sql`tb.commit = ${f.commit}`);
  if (f.kind) c.push(Prisma.sql`r.kind = ${f.kind}`);
  if (f.suspect) c.push(Prisma.sql`r.suspect = ${f.suspect}`);
  if (f.deviceType) c.push(Prisma.sql`r.device_type = ${f.deviceType}`);
  if (f.lab) c.push(Prisma.sql`${f.lab} = ANY(r.labs)`);
  if (f.test) c.push(Prisma.sql`r.test = ${f.test}`);
  if (cursor) c.push(Prisma.sql`(r.order_key, r.id) < (${cursor.orderKey}, ${cursor.rowId})`);
  if (v) c.push(anyVisible(Prisma.sql`r.job_ids`, v));
  const rows = await db.$queryRaw<
    {
      id: number;
      order_key: string;
      kind: "regression" | "fix";
      test: string;
      suite: string;
      name: string;
      test_set: string | null;
      tree: string;
      branch: string;
      from_commit: string;
      to_commit: string;
      device_type: string;
      labs: string[];
      suspect: "code" | "lab" | "unknown";
      jobs: { lab: string; id: number }[];
    }[]
  >`
    SELECT r.id, r.order_key, r.kind, r.test, r.suite, r.name, r.test_set, r.tree, r.branch, fb.commit AS from_commit, tb.commit AS to_commit,
           r.device_type, r.labs, r.suspect, ${jobLinksSql(Prisma.sql`r.job_ids`, v)} AS jobs
    FROM regression r
    JOIN build tb ON tb.id = r.to_build_id
    JOIN build fb ON fb.id = r.from_build_id
    WHERE ${Prisma.join(c, " AND ")}
    ORDER BY r.order_key DESC, r.id DESC
    LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    results: page.map((r) => ({
      kind: r.kind,
      test: r.test,
      suite: r.suite,
      case: r.name,
      set: r.test_set,
      tree: r.tree,
      branch: r.branch,
      from_commit: r.from_commit,
      to_commit: r.to_commit,
      device_type: r.device_type,
      labs: r.labs,
      suspect: r.suspect,
      jobs: links(r.jobs),
    })),
    nextCursor: rows.length > limit && last ? { orderKey: last.order_key, rowId: last.id } : null,
  };
}

type StatusRow = {
  build_id: number;
  order_key: string;
  lab: string;
  device_type: string;
  status: "pass" | "fail" | "skip" | "flaky";
  pass: number;
  fail: number;
  skip: number;
  jobs: { lab: string; id: number }[];
};

/**
 * A test's history on a branch: the `limit` newest builds that ran it (optionally on one device
 * type), each with one cell per lab × device type (status, counts, jobs), newest build first.
 * @param test `suite.case[.set]`
 */
export async function testHistory(
  db: FrontendDb,
  q: { test: string; tree: string; branch: string; deviceType?: string },
  limit: number,
  cursor: TBuildCursor | null,
  v?: TResultsVisibility,
): Promise<{ results: TTestHistoryResponse["results"]; nextCursor: TBuildCursor | null }> {
  const ran = Prisma.sql`s.tree = ${q.tree} AND s.branch = ${q.branch} AND s.test = ${q.test}
    ${q.deviceType ? Prisma.sql`AND s.device_type = ${q.deviceType}` : Prisma.empty}`;
  const where = Prisma.sql`${ran} AND ${anyVisible(Prisma.sql`s.job_ids`, v)}`;
  // The builds that ran the test, newest first, are found without the visibility rule (an index-only
  // read); the rule — one lookup of the build's jobs — is then checked build by build in that order
  // (OFFSET 0 keeps it out of the ordered subquery) until the page is full, instead of for every
  // status row of the branch (50 000 at 10 000 builds × 5 labs).
  const builds = await db.$queryRaw<BuildRow[]>`
    SELECT c.* FROM (
      SELECT b.* FROM build b
      WHERE b.id IN (SELECT s.build_id FROM build_test_status s WHERE ${ran})
        ${cursor ? Prisma.sql`AND (b.order_key, b.id) < (${cursor.orderKey}, ${cursor.rowId})` : Prisma.empty}
      ORDER BY b.order_key DESC, b.id DESC
      OFFSET 0
    ) c
    WHERE ${v ? Prisma.sql`EXISTS (SELECT 1 FROM build_test_status s WHERE s.build_id = c.id AND ${where})` : Prisma.sql`TRUE`}
    ORDER BY c.order_key DESC, c.id DESC
    LIMIT ${limit + 1}`;
  const page = builds.slice(0, limit);
  const cells = page.length
    ? await db.$queryRaw<StatusRow[]>`
        SELECT s.build_id, s.order_key, i.name AS lab, s.device_type, s.status, s.pass, s.fail, s.skip, ${jobLinksSql(Prisma.sql`s.job_ids`, v)} AS jobs
        FROM build_test_status s JOIN instance i ON i.id = s.instance_id
        WHERE ${where} AND s.build_id = ANY(${page.map((b) => b.id)}::int[])
        ORDER BY i.name, s.device_type`
    : [];
  const last = page[page.length - 1];
  return {
    results: page.map((b) => ({
      commit: b.commit,
      describe: b.describe,
      first_seen: b.first_seen.toISOString(),
      labs: cells
        .filter((c) => c.build_id === b.id)
        .map((c) => ({
          lab: c.lab,
          device_type: c.device_type,
          result: c.status,
          pass: c.pass,
          fail: c.fail,
          skip: c.skip,
          jobs: links(c.jobs),
        })),
    })),
    nextCursor: builds.length > limit && last ? { orderKey: last.order_key, rowId: last.id } : null,
  };
}

/**
 * Tests whose status differs between two builds, per lab and device type (null: not run there on
 * that build), by test, lab, device type.
 * @param limit most rows (1–5000)
 */
export async function compareBuilds(
  db: FrontendDb,
  from: TBuildRecord,
  to: TBuildRecord,
  limit: number,
  v?: TResultsVisibility,
): Promise<TBuildCompareResponse["results"]> {
  const rows = await db.$queryRaw<
    {
      test: string;
      suite: string;
      name: string;
      test_set: string | null;
      lab: string;
      device_type: string;
      from_status: string | null;
      to_status: string | null;
    }[]
  >`
    WITH f AS (SELECT * FROM build_test_status s WHERE s.build_id = ${from.id} AND ${anyVisible(Prisma.sql`s.job_ids`, v)}),
         t AS (SELECT * FROM build_test_status s WHERE s.build_id = ${to.id} AND ${anyVisible(Prisma.sql`s.job_ids`, v)})
    SELECT COALESCE(t.test, f.test) AS test, COALESCE(t.suite, f.suite) AS suite, COALESCE(t.name, f.name) AS name,
           COALESCE(t.test_set, f.test_set) AS test_set, i.name AS lab, COALESCE(t.device_type, f.device_type) AS device_type,
           f.status AS from_status, t.status AS to_status
    FROM f FULL JOIN t ON t.test = f.test AND t.device_type = f.device_type AND t.instance_id = f.instance_id
    JOIN instance i ON i.id = COALESCE(t.instance_id, f.instance_id)
    WHERE f.status IS DISTINCT FROM t.status
    ORDER BY 1, 5, 6
    LIMIT ${limit}`;
  return rows.map((r) => ({
    test: r.test,
    suite: r.suite,
    case: r.name,
    set: r.test_set,
    lab: r.lab,
    device_type: r.device_type,
    from_status: r.from_status as TBuildCompareResponse["results"][number]["from_status"],
    to_status: r.to_status as TBuildCompareResponse["results"][number]["to_status"],
  }));
}

/** One cell of a build's matrix: lab × device type × suite, with its tests counted by status. */
export interface TBuildMatrixCell {
  lab: string;
  deviceType: string;
  suite: string;
  pass: number;
  fail: number;
  skip: number;
  flaky: number;
}

/**
 * A failing (or flaky) test of a build on one lab and device type, with its jobs; `line` is the log
 * line of the job's first failing result of the test (null when the lab did not say), and `url`
 * then points at it (`/jobs/<lab>/<id>#L<line>`).
 */
export interface TBuildFailure {
  test: string;
  suite: string;
  name: string;
  lab: string;
  deviceType: string;
  status: string;
  jobs: (TJobLink & { line: number | null })[];
}

/** A job of a build (the build page's job table). */
export interface TBuildJob {
  lab: string;
  id: number;
  name: string;
  deviceType: string;
  state: string;
  health: string;
  errorType: string | null;
}

/**
 * What a build page shows beyond its summary: the labs × device types × suites matrix, its
 * failing and flaky tests (up to `limit`), and its jobs.
 */
export async function buildDetail(
  db: FrontendDb,
  build: TBuildRecord,
  v?: TResultsVisibility,
  limit = 500,
): Promise<{ matrix: TBuildMatrixCell[]; failures: TBuildFailure[]; jobs: TBuildJob[] }> {
  const vis = anyVisible(Prisma.sql`s.job_ids`, v);
  const [matrix, failures, jobs] = await Promise.all([
    db.$queryRaw<{ lab: string; device_type: string; suite: string; pass: number; fail: number; skip: number; flaky: number }[]>`
      SELECT i.name AS lab, s.device_type, s.suite,
             COUNT(*) FILTER (WHERE s.status = 'pass')::int AS pass, COUNT(*) FILTER (WHERE s.status = 'fail')::int AS fail,
             COUNT(*) FILTER (WHERE s.status = 'skip')::int AS skip, COUNT(*) FILTER (WHERE s.status = 'flaky')::int AS flaky
      FROM build_test_status s JOIN instance i ON i.id = s.instance_id
      WHERE s.build_id = ${build.id} AND ${vis}
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    db.$queryRaw<
      {
        test: string;
        suite: string;
        name: string;
        lab: string;
        device_type: string;
        status: string;
        jobs: { lab: string; id: number; line: number | null }[];
      }[]
    >`
      SELECT s.test, s.suite, s.name, i.name AS lab, s.device_type, s.status, (
        SELECT COALESCE(json_agg(json_build_object('lab', ji.name, 'id', j.remote_id, 'line', (
          SELECT MIN(c.log_start_line) FROM federated_test_case c
          WHERE c.job_id = j.id AND c.result = 'fail' AND c.suite = s.suite AND c.name = s.name AND COALESCE(c.test_set, '') = COALESCE(s.test_set, '')
        )) ORDER BY ji.name, j.remote_id), '[]'::json)
        FROM federated_job j JOIN instance ji ON ji.id = j.instance_id WHERE j.id = ANY(s.job_ids) AND ${visible(v)}
      ) AS jobs
      FROM build_test_status s JOIN instance i ON i.id = s.instance_id
      WHERE s.build_id = ${build.id} AND s.status IN ('fail', 'flaky') AND ${vis}
      ORDER BY s.test, i.name, s.device_type LIMIT ${limit}`,
    db.$queryRaw<
      { lab: string; remote_id: number; name: string; device_type: string; state: string; health: string; error_type: string | null }[]
    >`
      SELECT i.name AS lab, j.remote_id, j.name, j.device_type, j.state, j.health, j.error_type
      FROM federated_job j JOIN instance i ON i.id = j.instance_id
      WHERE j.build_id = ${build.id} AND ${visible(v)}
      ORDER BY i.name, j.device_type, j.remote_id LIMIT ${limit}`,
  ]);
  return {
    matrix: matrix.map((m) => ({
      lab: m.lab,
      deviceType: m.device_type,
      suite: m.suite,
      pass: m.pass,
      fail: m.fail,
      skip: m.skip,
      flaky: m.flaky,
    })),
    failures: failures.map((f) => ({
      test: f.test,
      suite: f.suite,
      name: f.name,
      lab: f.lab,
      deviceType: f.device_type,
      status: f.status,
      jobs: f.jobs.map((j) => {
        const [link] = links([j]);
        return { ...link!, url: j.line !== null ? `${link!.url}#L${j.line}` : link!.url, line: j.line };
      }),
    })),
    jobs: jobs.map((j) => ({
      lab: j.lab,
      id: j.remote_id,
      name: j.name,
      deviceType: j.device_type,
      state: j.state,
      health: j.health,
      errorType: j.error_type,
    })),
  };
}

/** One test case of a build as exported to KCIDB (LAVA's `lava` suite excluded). */
export interface TBuildCaseRow {
  buildId: number;
  lab: string;
  deviceType: string;
  jobId: number;
  jobHealth: string;
  jobErrorType: string | null;
  caseId: string;
  suite: string;
  name: string;
  testSet: string | null;
  result: string;
  logStartLine: number | null;
  startTime: string | null;
}

/**
 * The test cases of the Finished jobs of some builds, by build, lab, job and case (KCIDB export).
 * @param limit most rows (the caller says when it was reached)
 */
export async function listBuildCases(db: FrontendDb, buildIds: number[], limit: number, v?: TResultsVisibility): Promise<TBuildCaseRow[]> {
  if (!buildIds.length) return [];
  const rows = await db.$queryRaw<
    {
      build_id: number;
      lab: string;
      device_type: string;
      remote_id: number;
      health: string;
      error_type: string | null;
      remote_case_id: string;
      suite: string;
      name: string;
      test_set: string | null;
      result: string;
      log_start_line: number | null;
      start_time: Date | null;
    }[]
  >`
    SELECT j.build_id, i.name AS lab, j.device_type, j.remote_id, j.health, j.error_type, c.remote_case_id, c.suite, c.name, c.test_set, c.result, c.log_start_line, j.start_time
    FROM federated_job j JOIN instance i ON i.id = j.instance_id JOIN federated_test_case c ON c.job_id = j.id
    WHERE j.build_id = ANY(${buildIds}::int[]) AND j.state = 'Finished' AND c.suite <> 'lava' AND ${visible(v)}
    ORDER BY j.build_id, i.name, j.remote_id, c.id
    LIMIT ${limit}`;
  return rows.map((r) => ({
    buildId: r.build_id,
    lab: r.lab,
    deviceType: r.device_type,
    jobId: r.remote_id,
    jobHealth: r.health,
    jobErrorType: r.error_type,
    caseId: r.remote_case_id,
    suite: r.suite,
    name: r.name,
    testSet: r.test_set,
    result: r.result,
    logStartLine: r.log_start_line,
    startTime: r.start_time ? r.start_time.toISOString() : null,
  }));
}

/**
 * Builds whose first-seen time is in [since, until), optionally of one tree/branch, oldest first.
 * @param limit most builds
 */
export async function listBuildsSeenBetween(
  db: FrontendDb,
  q: { since: Date; until: Date; tree?: string; branch?: string },
  limit: number,
  v?: TResultsVisibility,
): Promise<TBuildRecord[]> {
  const rows = await db.$queryRaw<BuildRow[]>`
    SELECT b.* FROM build b
    WHERE b.first_seen >= (${q.since.toISOString()}::timestamptz AT TIME ZONE 'UTC') AND b.first_seen < (${q.until.toISOString()}::timestamptz AT TIME ZONE 'UTC')
      ${q.tree ? Prisma.sql`AND b.tree = ${q.tree}` : Prisma.empty} ${q.branch ? Prisma.sql`AND b.branch = ${q.branch}` : Prisma.empty}
      AND ${v ? Prisma.sql`EXISTS (SELECT 1 FROM federated_job j WHERE j.build_id = b.id AND ${v})` : Prisma.sql`TRUE`}
    ORDER BY b.first_seen, b.id
    LIMIT ${limit}`;
  return rows.map(toRecord);
}
