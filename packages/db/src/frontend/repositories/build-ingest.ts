import { Prisma } from "../../generated/frontend/client";
import type { TBuildRef } from "@magma/protocol";
import type { FrontendDb } from "../client.ts";
import type { SqlTx } from "../direct-sql.ts";

/**
 * The transaction client these functions write with: a Prisma `TransactionClient` (handed to
 * `$transaction(async (tx) => …)`), or the `pg` one of ingest's {@link sqlTransaction}; only its
 * raw-SQL methods are used.
 */
export type FrontendTx = SqlTx;

const pad = (digits: string) => digits.replace(/^0+(?=\d)/, "").padStart(12, "0");
/** Digit runs zero-padded so "6.10" sorts after "6.9". */
const natural = (s: string) => s.replace(/\d+/g, pad);
const SEP = "\u0001";

/**
 * Sort key of a build on its branch, compared as plain text (hex of UTF-8, so any collation orders
 * it byte by byte). With a `git describe` (`v6.7-rc1-12-gabcdef`, `next-20261201`, `v6.6.8`): the tag
 * in natural order, release candidates before their release (`v6.7-rc8` < `v6.7`), then the number
 * of commits since the tag. Without: the first-seen time (ISO). Keys with a describe sort before
 * keys without one, so a branch should carry `git.describe` on every job or on none.
 */
export function buildOrderKey(describe: string | null, firstSeen: Date): string {
  let key: string;
  const m = describe ? /^(.*?)(?:-rc(\d+))?(?:-(\d+)-g[0-9a-f]+)?(?:-dirty)?$/.exec(describe) : null;
  if (m && describe) {
    const [, base = "", rc, since] = m;
    key = `d${natural(base)}${SEP}${rc ? `0${pad(rc)}` : "1"}${SEP}${pad(since ?? "0")}`;
  } else {
    key = `t${firstSeen.toISOString()}`;
  }
  return Buffer.from(key, "utf8").toString("hex");
}

/**
 * Serialises, until the transaction ends, every writer of one (tree, branch)'s builds, statuses and
 * regressions (PostgreSQL transaction-scoped advisory lock on a 64-bit hash of tree and branch).
 * Two labs' callbacks for one build, or jobs of neighbouring builds, ingested concurrently thus
 * recompute one after the other, each seeing the other's committed rows (READ COMMITTED). Callers
 * lock the job's row first, then the branch, so no two writers deadlock.
 */
export async function lockBranch(tx: FrontendTx, build: TBuildRef): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`build-branch\n${build.tree}\n${build.branch}`}, 0))`;
}

/**
 * Creates the build on first sight (first_seen = the job's submit time, order key fixed then) or
 * fills its describe/url/kernel version when an earlier job lacked them; links the job to it.
 * @returns the build's id and order key
 */
export async function upsertBuildForJob(
  tx: FrontendTx,
  jobId: number,
  build: TBuildRef,
  submitTime: Date,
): Promise<{ id: number; orderKey: string }> {
  const row = await upsertBuild(tx, build, submitTime);
  await linkJobsToBuild(tx, [jobId], row.id);
  return row;
}

/**
 * Creates the build on first sight (first_seen = `submitTime`, the submit time of the first job
 * seen, which fixes the order key) or fills its describe/url/kernel version when they are still null.
 * @returns the build's id and order key
 */
export async function upsertBuild(tx: FrontendTx, build: TBuildRef, submitTime: Date): Promise<{ id: number; orderKey: string }> {
  const rows = await tx.$queryRaw<{ id: number; order_key: string }[]>`
    INSERT INTO build (tree, branch, commit, describe, url, kernel_version, first_seen, order_key)
    VALUES (${build.tree}, ${build.branch}, ${build.commit}, ${build.describe}, ${build.url}, ${build.kernelVersion},
            (${submitTime.toISOString()}::timestamptz AT TIME ZONE 'UTC'), ${buildOrderKey(build.describe, submitTime)})
    ON CONFLICT (tree, branch, commit) DO UPDATE SET
      describe = COALESCE(build.describe, EXCLUDED.describe),
      url = COALESCE(build.url, EXCLUDED.url),
      kernel_version = COALESCE(build.kernel_version, EXCLUDED.kernel_version)
    RETURNING id, order_key`;
  const row = rows[0];
  if (!row) throw new Error(`build ${build.tree}/${build.branch}/${build.commit}: upsert returned nothing`);
  return { id: row.id, orderKey: row.order_key };
}

/**
 * Several builds' {@link upsertBuild} in ONE statement, each with the result of upserting it once
 * per input in the order given: the first input creates it (its submit time is `first_seen` and
 * fixes the order key, from its describe), and describe/url/kernel version still null are filled
 * with the first input carrying one.
 * @param builds distinct (tree, branch, commit) each; `inputs`: the build as each job named it, in order, with its submit time
 * @returns the id and order key of each build (same order)
 */
export async function upsertBuilds(
  tx: FrontendTx,
  builds: { inputs: { ref: TBuildRef; submitTime: Date }[] }[],
): Promise<{ id: number; orderKey: string }[]> {
  if (!builds.length) return [];
  const rows = builds.map(({ inputs }) => {
    const first = inputs[0];
    if (!first) throw new Error("upsertBuilds: a build without inputs");
    const fill = (f: (r: TBuildRef) => string | null) => inputs.map((i) => f(i.ref)).find((v) => v !== null) ?? null;
    return {
      tree: first.ref.tree,
      branch: first.ref.branch,
      commit: first.ref.commit,
      describe: fill((r) => r.describe),
      url: fill((r) => r.url),
      kernel_version: fill((r) => r.kernelVersion),
      first_seen: first.submitTime.toISOString(),
      order_key: buildOrderKey(first.ref.describe, first.submitTime),
    };
  });
  const key = (r: { tree: string; branch: string; commit: string }) => `${r.tree}\n${r.branch}\n${r.commit}`;
  const got = await tx.$queryRaw<{ id: number; order_key: string; tree: string; branch: string; commit: string }[]>`
    INSERT INTO build (tree, branch, commit, describe, url, kernel_version, first_seen, order_key)
    SELECT v.tree, v.branch, v.commit, v.describe, v.url, v.kernel_version, v.first_seen AT TIME ZONE 'UTC', v.order_key
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(tree text, branch text, commit text, describe text, url text,
      kernel_version text, first_seen timestamptz, order_key text)
    ORDER BY v.tree, v.branch, v.commit
    ON CONFLICT (tree, branch, commit) DO UPDATE SET
      describe = COALESCE(build.describe, EXCLUDED.describe),
      url = COALESCE(build.url, EXCLUDED.url),
      kernel_version = COALESCE(build.kernel_version, EXCLUDED.kernel_version)
    RETURNING id, order_key, tree, branch, commit`;
  const byKey = new Map(got.map((r) => [key(r), { id: r.id, orderKey: r.order_key }]));
  return rows.map((r) => {
    const b = byKey.get(key(r));
    if (!b) throw new Error(`build ${r.tree}/${r.branch}/${r.commit}: upsert returned nothing`);
    return b;
  });
}

/** Links jobs (federated_job ids, already locked by the caller) to their builds (`buildIds[i]` for `jobIds[i]`), in one statement. */
export async function linkJobsToBuilds(tx: FrontendTx, jobIds: number[], buildIds: number[]): Promise<void> {
  if (!jobIds.length) return;
  await tx.$executeRaw`
    UPDATE federated_job j SET build_id = v.build_id FROM unnest(${jobIds}::int[], ${buildIds}::int[]) AS v(id, build_id)
    WHERE j.id = v.id AND j.build_id IS DISTINCT FROM v.build_id`;
}

/** Links jobs (federated_job ids, already locked by the caller) to build `buildId`, in one statement. */
export async function linkJobsToBuild(tx: FrontendTx, jobIds: number[], buildId: number): Promise<void> {
  await tx.$executeRaw`UPDATE federated_job SET build_id = ${buildId} WHERE id = ANY(${jobIds}::int[]) AND build_id IS DISTINCT FROM ${buildId}`;
}

/** SQL of LAVA's test name `suite.case[.set]` over a test case row aliased `c` (see testPath). */
const TEST_SQL = Prisma.sql`c.suite || '.' || c.name || COALESCE('.' || NULLIF(c.test_set, ''), '')`;

/** One lab's status of a test on a build and on the previous build that ran it there (`prev_*` null: none). */
export interface TTransitionRow {
  test: string;
  build_id: number;
  order_key: string;
  suite: string;
  name: string;
  test_set: string | null;
  lab: string;
  status: string;
  job_ids: number[];
  prev_build: number | null;
  prev_order: string | null;
  prev_status: string | null;
}

/** A regression or fix row as stored. */
export interface TComputedTransition {
  kind: "regression" | "fix";
  test: string;
  suite: string;
  name: string;
  testSet: string | null;
  fromBuildId: number;
  toBuildId: number;
  orderKey: string;
  suspect: "code" | "lab" | "unknown";
  labs: string[];
  jobIds: number[];
}

/**
 * The regressions and fixes of one test on one build and device type, from each lab's status there
 * and on the previous build that ran the test in that lab (`prev_*`; flaky and skip-only builds do
 * not count as having run it). Per lab, pass → fail is a regression and fail → pass a fix. The
 * labs *comparable* for a transition are those with pass/fail on both; the ones *seeing* it are
 * those whose status on this build is the new status. `suspect`: `unknown` with one comparable
 * lab, `code` when every comparable lab sees the new status, else `lab`. `from` is the newest of
 * the transitioning labs' previous builds; `labs` and `jobIds` are the seeing labs and their jobs.
 */
export function computeTransitions(rows: TTransitionRow[]): TComputedTransition[] {
  const first = rows[0];
  if (!first) return [];
  const comparable = rows.filter(
    (r) => (r.status === "pass" || r.status === "fail") && (r.prev_status === "pass" || r.prev_status === "fail"),
  );
  const out: TComputedTransition[] = [];
  for (const [kind, from, to] of [
    ["regression", "pass", "fail"],
    ["fix", "fail", "pass"],
  ] as const) {
    const moving = comparable.filter((r) => r.prev_status === from && r.status === to);
    if (!moving.length) continue;
    const seeing = comparable.filter((r) => r.status === to);
    const newestPrev = moving.reduce((a, b) =>
      (b.prev_order ?? "") > (a.prev_order ?? "") || (b.prev_order === a.prev_order && (b.prev_build ?? 0) > (a.prev_build ?? 0)) ? b : a,
    );
    out.push({
      kind,
      test: first.test,
      suite: first.suite,
      name: first.name,
      testSet: first.test_set,
      fromBuildId: newestPrev.prev_build ?? 0,
      toBuildId: first.build_id,
      orderKey: first.order_key,
      suspect: comparable.length === 1 ? "unknown" : seeing.length === comparable.length ? "code" : "lab",
      labs: [...new Set(seeing.map((r) => r.lab))].sort(),
      jobIds: [...new Set(seeing.flatMap((r) => r.job_ids))].sort((a, b) => a - b),
    });
  }
  return out;
}

/**
 * Recomputes, inside the ingest transaction (the branch lock held), what one Complete job changes;
 * see {@link recomputeForJobs}, of which this is the one-job case.
 */
export async function recomputeForJob(
  tx: FrontendTx,
  job: { id: number; instanceId: number; deviceType: string },
  build: { id: number; orderKey: string; tree: string; branch: string },
): Promise<{ tests: number; transitions: number }> {
  return recomputeForJobs(tx, { ids: [job.id], instanceId: job.instanceId, deviceType: job.deviceType }, build);
}

/**
 * Recomputes, inside the ingest transaction (the branch lock held), what Complete jobs of one
 * (build, lab, device type) change — one job, or several ingested in one transaction (a batch of
 * callbacks): the result is the same as recomputing after each of them in turn, because the
 * statuses are sums over all the lab's jobs of the build and the skip rules below compare the
 * status before the first of them with the status after the last.
 * 1. the status of each of their tests (LAVA's `lava` suite excluded) on the (build, lab, device type),
 *    summed over that lab's Complete, non-Infrastructure jobs of the build;
 * 2. the regressions/fixes of those tests on this build and on the lab's next build that ran each
 *    test (whose "previous build" may now be this one: a late job of an older build), every lab
 *    considered. Rows are upserted on (to build, device type, test, kind) and rows no longer true
 *    deleted, so a re-delivered callback changes nothing.
 * Cost: a few statements whatever the number of jobs; the transitions are recomputed only for the
 * tests whose status here can change one (see the skip rules below), so a build where nothing
 * changes costs two index lookups per test.
 * @param jobs `ids`: federated_job ids (all of `instanceId`, `deviceType` and the build)
 */
export async function recomputeForJobs(
  tx: FrontendTx,
  jobs: { ids: number[]; instanceId: number; deviceType: string },
  build: { id: number; orderKey: string; tree: string; branch: string },
): Promise<{ tests: number; transitions: number }> {
  const tests = await tx.$queryRaw<{ test: string; status: string; old_status: string | null; inserted: boolean }[]>`
    WITH p AS (
      SELECT DISTINCT ${TEST_SQL} AS test FROM federated_test_case c WHERE c.job_id = ANY(${jobs.ids}::int[]) AND c.suite <> 'lava'
    ), agg AS (
      SELECT ${TEST_SQL} AS test, MIN(c.suite) AS suite, MIN(c.name) AS name, MIN(NULLIF(c.test_set, '')) AS test_set,
             COUNT(*) FILTER (WHERE c.result = 'pass')::int AS pass,
             COUNT(*) FILTER (WHERE c.result = 'fail')::int AS fail,
             COUNT(*) FILTER (WHERE c.result = 'skip')::int AS skip,
             array_agg(DISTINCT c.job_id ORDER BY c.job_id) AS job_ids
      FROM federated_job j
      JOIN federated_test_case c ON c.job_id = j.id AND c.suite <> 'lava'
      WHERE j.build_id = ${build.id} AND j.instance_id = ${jobs.instanceId} AND j.device_type = ${jobs.deviceType}
        AND j.state = 'Finished' AND j.health = 'Complete' AND j.error_type IS DISTINCT FROM 'Infrastructure'
        AND ${TEST_SQL} IN (SELECT test FROM p)
      GROUP BY 1
    ), old AS (
      SELECT s.test, s.status FROM build_test_status s
      WHERE s.build_id = ${build.id} AND s.device_type = ${jobs.deviceType} AND s.instance_id = ${jobs.instanceId} AND s.test IN (SELECT test FROM p)
    ), up AS (
    INSERT INTO build_test_status AS s (build_id, instance_id, device_type, test, suite, name, test_set, tree, branch, order_key, status, pass, fail, skip, job_ids)
    SELECT ${build.id}, ${jobs.instanceId}, ${jobs.deviceType}, agg.test, agg.suite, agg.name, agg.test_set, ${build.tree}, ${build.branch}, ${build.orderKey},
           CASE WHEN agg.pass > 0 AND agg.fail > 0 THEN 'flaky' WHEN agg.fail > 0 THEN 'fail' WHEN agg.pass > 0 THEN 'pass' ELSE 'skip' END,
           agg.pass, agg.fail, agg.skip, agg.job_ids
    FROM agg
    ON CONFLICT (build_id, device_type, test, instance_id) DO UPDATE SET
      status = EXCLUDED.status, pass = EXCLUDED.pass, fail = EXCLUDED.fail, skip = EXCLUDED.skip, job_ids = EXCLUDED.job_ids
    RETURNING s.test, s.status
    )
    SELECT up.test, up.status, old.status AS old_status, (old.test IS NULL) AS inserted FROM up LEFT JOIN old ON old.test = up.test`;
  return recomputeTransitions(tx, jobs, build, tests);
}

/** The per-test counts that Complete jobs new to a build add to its statuses (see {@link addNewJobsToStatuses}). */
export interface TNewStatusCounts {
  /** LAVA's name `suite.case[.set]` (see testPath). */
  test: string;
  suite: string;
  name: string;
  /** null when the cases carry none (or ""). */
  testSet: string | null;
  pass: number;
  fail: number;
  skip: number;
  /** federated_job ids (of the group) with at least one case of this test. */
  jobIds: number[];
}

/**
 * Per test, what jobs new to a build contribute to its statuses, from their cases as ingested (the
 * `lava` suite excluded): pass/fail/skip counts and the jobs with the test — what the status
 * statement of {@link recomputeForJobs} would sum for these jobs alone.
 * @param jobs the jobs' federated_job ids and cases (each case once: duplicates of a remote case id
 *   are dropped by the caller, as the insert drops them)
 * @returns the counts, or null when one test name stands for several (suite, case, set) triples (the
 *   stored suite/name/set would then be the minimum of each, which only the full statement computes)
 */
export function newStatusCounts(
  jobs: { id: number; cases: readonly { suite: string; name: string; testSet: string | null; result: string }[] }[],
): TNewStatusCounts[] | null {
  const byTest = new Map<string, TNewStatusCounts>();
  for (const j of jobs) {
    for (const c of j.cases) {
      if (c.suite === "lava") continue;
      const set = c.testSet ? c.testSet : null;
      const test = `${c.suite}.${c.name}${set === null ? "" : `.${set}`}`;
      let t = byTest.get(test);
      if (!t) byTest.set(test, (t = { test, suite: c.suite, name: c.name, testSet: set, pass: 0, fail: 0, skip: 0, jobIds: [] }));
      else if (t.suite !== c.suite || t.name !== c.name || t.testSet !== set) return null;
      if (c.result === "pass") t.pass++;
      else if (c.result === "fail") t.fail++;
      else if (c.result === "skip") t.skip++;
      if (t.jobIds[t.jobIds.length - 1] !== j.id) t.jobIds.push(j.id);
    }
  }
  for (const t of byTest.values()) t.jobIds.sort((a, b) => a - b);
  return [...byTest.values()];
}

/** A status from summed counts, as stored: flaky (pass and fail), fail, pass, else skip. */
function statusOfCounts(pass: number, fail: number): string {
  return pass > 0 && fail > 0 ? "flaky" : fail > 0 ? "fail" : pass > 0 ? "pass" : "skip";
}

/**
 * {@link recomputeForJobs} for Complete jobs that are new to the build (created by this ingest, all
 * their cases inserted by it): their counts are ADDED to the (build, lab, device type)'s statuses
 * in one upsert instead of re-summing every case of the lab's jobs on the build, then regressions
 * and fixes follow exactly as there. The same rows result, because a status is a sum over the
 * lab's Complete jobs of the build and these jobs were in none of them before. Runs under the
 * branch lock, inside the ingest transaction.
 * @param counts from {@link newStatusCounts} over exactly these jobs
 */
export async function addNewJobsToStatuses(
  tx: FrontendTx,
  jobs: { instanceId: number; deviceType: string },
  build: { id: number; orderKey: string; tree: string; branch: string },
  counts: TNewStatusCounts[],
): Promise<{ tests: number; transitions: number }> {
  if (!counts.length) return { tests: 0, transitions: 0 };
  const up = await tx.$queryRaw<{ test: string; status: string; pass: number; fail: number; inserted: boolean }[]>`
    INSERT INTO build_test_status AS s (build_id, instance_id, device_type, test, suite, name, test_set, tree, branch, order_key, status, pass, fail, skip, job_ids)
    SELECT ${build.id}, ${jobs.instanceId}, ${jobs.deviceType}, v.test, v.suite, v.name, v.test_set, ${build.tree}, ${build.branch}, ${build.orderKey},
           CASE WHEN v.pass > 0 AND v.fail > 0 THEN 'flaky' WHEN v.fail > 0 THEN 'fail' WHEN v.pass > 0 THEN 'pass' ELSE 'skip' END,
           v.pass, v.fail, v.skip, string_to_array(v.job_ids, ',')::int[]
    FROM unnest(${counts.map((c) => c.test)}::text[], ${counts.map((c) => c.suite)}::text[], ${counts.map((c) => c.name)}::text[],
                ${counts.map((c) => c.testSet)}::text[], ${counts.map((c) => c.pass)}::int[], ${counts.map((c) => c.fail)}::int[],
                ${counts.map((c) => c.skip)}::int[], ${counts.map((c) => c.jobIds.join(","))}::text[])
         AS v(test, suite, name, test_set, pass, fail, skip, job_ids)
    ON CONFLICT (build_id, device_type, test, instance_id) DO UPDATE SET
      pass = s.pass + EXCLUDED.pass, fail = s.fail + EXCLUDED.fail, skip = s.skip + EXCLUDED.skip,
      status = CASE WHEN s.pass + EXCLUDED.pass > 0 AND s.fail + EXCLUDED.fail > 0 THEN 'flaky'
                    WHEN s.fail + EXCLUDED.fail > 0 THEN 'fail' WHEN s.pass + EXCLUDED.pass > 0 THEN 'pass' ELSE 'skip' END,
      job_ids = ARRAY(SELECT DISTINCT x FROM unnest(s.job_ids || EXCLUDED.job_ids) AS x ORDER BY x)
    RETURNING s.test, s.status, s.pass, s.fail, (s.xmax = 0) AS inserted`;
  const added = new Map(counts.map((c) => [c.test, c]));
  const tests = up.map((r) => {
    const a = added.get(r.test)!;
    // the status before: the same sums without what these jobs added
    return {
      test: r.test,
      status: r.status,
      inserted: r.inserted,
      old_status: r.inserted ? null : statusOfCounts(r.pass - a.pass, r.fail - a.fail),
    };
  });
  return recomputeTransitions(tx, jobs, build, tests);
}

/**
 * Second half of {@link recomputeForJobs} and {@link addNewJobsToStatuses}: given the tests whose
 * status on (build, lab, device type) was just written (`old_status`: before, `inserted`: new row),
 * recomputes the regressions and fixes they can change.
 */
async function recomputeTransitions(
  tx: FrontendTx,
  jobs: { instanceId: number; deviceType: string },
  build: { id: number; orderKey: string; tree: string; branch: string },
  tests: { test: string; status: string; old_status: string | null; inserted: boolean }[],
): Promise<{ tests: number; transitions: number }> {
  if (!tests.length) return { tests: 0, transitions: 0 };
  const names = tests.map((t) => t.test);

  // Per test, the lab's neighbours of this build (previous and next build that ran it, with their
  // status) and whether a regression/fix already ends on this build.
  const hood = new Map(
    (
      await tx.$queryRaw<
        { test: string; next_build: number | null; next_status: string | null; prev_status: string | null; has_row: boolean }[]
      >`
        SELECT t.test, n.build_id AS next_build, n.status AS next_status, pv.status AS prev_status,
               EXISTS (SELECT 1 FROM regression r WHERE r.to_build_id = ${build.id} AND r.device_type = ${jobs.deviceType} AND r.test = t.test) AS has_row
        FROM unnest(${names}::text[]) AS t(test)
        LEFT JOIN LATERAL (
          SELECT s.build_id, s.status FROM build_test_status s
          WHERE s.tree = ${build.tree} AND s.branch = ${build.branch} AND s.test = t.test AND s.device_type = ${jobs.deviceType}
            AND s.instance_id = ${jobs.instanceId} AND s.status IN ('pass', 'fail') AND (s.order_key, s.build_id) > (${build.orderKey}, ${build.id})
          ORDER BY s.order_key, s.build_id LIMIT 1
        ) n ON TRUE
        LEFT JOIN LATERAL (
          SELECT s.status FROM build_test_status s
          WHERE s.tree = ${build.tree} AND s.branch = ${build.branch} AND s.test = t.test AND s.device_type = ${jobs.deviceType}
            AND s.instance_id = ${jobs.instanceId} AND s.status IN ('pass', 'fail') AND (s.order_key, s.build_id) < (${build.orderKey}, ${build.id})
          ORDER BY s.order_key DESC, s.build_id DESC LIMIT 1
        ) pv ON TRUE`
    ).map((h) => [h.test, h]),
  );
  // The (test, to-build) pairs whose regressions this job can change: its build and the lab's next
  // build that ran the test — skipping what provably stays as it is, the common case:
  // - same status as before on this build: only the job lists of rows ending here can change;
  // - a first flaky/skip status here: it starts and ends nothing, the lab's chain is unchanged;
  // - a first pass/fail equal to the lab's previous and next status, no row ending here: the
  //   lab's transitions and every lab's comparability stay the same.
  const targets: { test: string; build_id: number }[] = [];
  for (const t of tests) {
    const h = hood.get(t.test);
    const definite = t.status === "pass" || t.status === "fail";
    if (!t.inserted && t.old_status === t.status) {
      if (h?.has_row) targets.push({ test: t.test, build_id: build.id });
      continue;
    }
    if (t.inserted && !definite) continue;
    if (t.inserted && h && t.status === h.prev_status && (h.next_build === null || h.next_status === t.status) && !h.has_row) continue;
    targets.push({ test: t.test, build_id: build.id });
    if (h?.next_build != null) targets.push({ test: t.test, build_id: h.next_build });
  }
  if (!targets.length) return { tests: names.length, transitions: 0 };

  const rows = await tx.$queryRaw<TTransitionRow[]>`
    SELECT t.test, t.build_id, cur.order_key, cur.suite, cur.name, cur.test_set, i.name AS lab, cur.status, cur.job_ids,
           prev.build_id AS prev_build, prev.order_key AS prev_order, prev.status AS prev_status
    FROM unnest(${targets.map((t) => t.test)}::text[], ${targets.map((t) => t.build_id)}::int[]) AS t(test, build_id)
    JOIN build_test_status cur ON cur.build_id = t.build_id AND cur.device_type = ${jobs.deviceType} AND cur.test = t.test
    JOIN instance i ON i.id = cur.instance_id
    LEFT JOIN LATERAL (
      SELECT p.build_id, p.order_key, p.status FROM build_test_status p
      WHERE p.tree = cur.tree AND p.branch = cur.branch AND p.test = cur.test AND p.device_type = cur.device_type
        AND p.instance_id = cur.instance_id AND p.status IN ('pass', 'fail') AND (p.order_key, p.build_id) < (cur.order_key, cur.build_id)
      ORDER BY p.order_key DESC, p.build_id DESC LIMIT 1
    ) prev ON TRUE
    ORDER BY t.build_id, t.test, i.name`;
  const groups = new Map<string, TTransitionRow[]>();
  for (const r of rows) {
    const k = `${r.build_id}\n${r.test}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const found = [...groups.values()].flatMap(computeTransitions);

  await tx.$executeRaw`
    DELETE FROM regression r
    USING unnest(${targets.map((t) => t.test)}::text[], ${targets.map((t) => t.build_id)}::int[]) AS t(test, build_id)
    WHERE r.to_build_id = t.build_id AND r.device_type = ${jobs.deviceType} AND r.test = t.test
      AND NOT EXISTS (
        SELECT 1 FROM jsonb_to_recordset(${JSON.stringify(found.map((f) => ({ b: f.toBuildId, t: f.test, k: f.kind })))}::jsonb) AS n(b int, t text, k text)
        WHERE n.b = r.to_build_id AND n.t = r.test AND n.k = r.kind)`;
  if (found.length) {
    await tx.$executeRaw`
      INSERT INTO regression (kind, tree, branch, device_type, test, suite, name, test_set, from_build_id, to_build_id, order_key, suspect, labs, job_ids)
      SELECT f.kind, ${build.tree}, ${build.branch}, ${jobs.deviceType}, f.test, f.suite, f.name, f.test_set, f.from_build, f.to_build, f.order_key, f.suspect,
             ARRAY(SELECT jsonb_array_elements_text(f.labs)), ARRAY(SELECT jsonb_array_elements_text(f.job_ids)::int)
      FROM jsonb_to_recordset(${JSON.stringify(
        found.map((f) => ({
          kind: f.kind,
          test: f.test,
          suite: f.suite,
          name: f.name,
          test_set: f.testSet,
          from_build: f.fromBuildId,
          to_build: f.toBuildId,
          order_key: f.orderKey,
          suspect: f.suspect,
          labs: f.labs,
          job_ids: f.jobIds,
        })),
      )}::jsonb) AS f(kind text, test text, suite text, name text, test_set text, from_build int, to_build int, order_key text, suspect text, labs jsonb, job_ids jsonb)
      ON CONFLICT (to_build_id, device_type, test, kind) DO UPDATE SET
        from_build_id = EXCLUDED.from_build_id, suspect = EXCLUDED.suspect, labs = EXCLUDED.labs, job_ids = EXCLUDED.job_ids,
        suite = EXCLUDED.suite, name = EXCLUDED.name, test_set = EXCLUDED.test_set`;
  }
  return { tests: names.length, transitions: found.length };
}

/** A stored job not linked to a build (see listJobsWithoutBuild). */
export interface TUnlinkedJob {
  id: number;
  instanceId: number;
  deviceType: string;
  submitTime: Date;
  state: string;
  health: string;
  errorType: string | null;
  metadata: Record<string, string>;
}

/** Jobs with no build, by id after `afterId` (keyset), `limit` at most. */
export async function listJobsWithoutBuild(db: FrontendDb, afterId: number, limit: number): Promise<TUnlinkedJob[]> {
  const rows = await db.$queryRaw<
    {
      id: number;
      instance_id: number;
      device_type: string;
      submit_time: Date;
      state: string;
      health: string;
      error_type: string | null;
      metadata: unknown;
    }[]
  >`
    SELECT id, instance_id, device_type, submit_time, state, health, error_type, metadata FROM federated_job
    WHERE build_id IS NULL AND id > ${afterId} ORDER BY id LIMIT ${limit}`;
  return rows.map((r) => ({
    id: r.id,
    instanceId: r.instance_id,
    deviceType: r.device_type,
    submitTime: r.submit_time,
    state: r.state,
    health: r.health,
    errorType: r.error_type,
    metadata: r.metadata && typeof r.metadata === "object" && !Array.isArray(r.metadata) ? (r.metadata as Record<string, string>) : {},
  }));
}

/**
 * Links an already stored job to its build and, when it is Finished/Complete, recomputes statuses
 * and regressions around it — what ingest does, for jobs stored before builds existed or before the
 * metadata mapping changed. Same locks as ingest, so it may run while callbacks are ingested.
 * @returns the build id and the regressions/fixes (re)computed
 */
export async function linkJobToBuild(
  db: FrontendDb,
  job: TUnlinkedJob,
  build: TBuildRef,
): Promise<{ buildId: number; transitions: number }> {
  return db.$transaction(
    async (tx) => {
      // job row, then branch: the order ingest takes them in
      await tx.$queryRaw`SELECT id FROM federated_job WHERE id = ${job.id} FOR UPDATE`;
      await lockBranch(tx, build);
      const b = await upsertBuildForJob(tx, job.id, build, job.submitTime);
      let transitions = 0;
      if (job.state === "Finished" && job.health === "Complete" && job.errorType !== "Infrastructure") {
        transitions = (await recomputeForJob(tx, job, { id: b.id, orderKey: b.orderKey, tree: build.tree, branch: build.branch }))
          .transitions;
      }
      return { buildId: b.id, transitions };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}
