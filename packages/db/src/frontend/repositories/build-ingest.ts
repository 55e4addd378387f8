import { Prisma } from "../../generated/frontend/client";
import type { TBuildRef } from "@magma/protocol";
import type { FrontendDb } from "../client.ts";

/** The transaction client handed to `$transaction(async (tx) => …)`. */
export type FrontendTx = Prisma.TransactionClient;

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

/** Complete jobs of one (build, lab, device type) whose statuses are recomputed (see {@link recomputeForGroups}). */
export interface TRecomputeGroup {
  /** federated_job ids (all of `instanceId`, `deviceType` and the build) */
  ids: number[];
  instanceId: number;
  deviceType: string;
  build: { id: number; orderKey: string; tree: string; branch: string };
}

/**
 * Recomputes, inside the ingest transaction (the branch lock held), what Complete jobs of one
 * (build, lab, device type) change; the one-group case of {@link recomputeForGroups}.
 * @param jobs `ids`: federated_job ids (all of `instanceId`, `deviceType` and the build)
 */
export async function recomputeForJobs(
  tx: FrontendTx,
  jobs: { ids: number[]; instanceId: number; deviceType: string },
  build: { id: number; orderKey: string; tree: string; branch: string },
): Promise<{ tests: number; transitions: number }> {
  const [r] = await recomputeForGroups(tx, [{ ...jobs, build }]);
  return r!;
}

/**
 * Recomputes, inside the ingest transaction (the branch locks of every group's (tree, branch)
 * held), what Complete jobs of several (build, lab, device type) groups change — one job, or a
 * batch of callbacks naming many builds — in five statements whatever the number of groups. The
 * stored result is the same as recomputing after each job in turn: the statuses are sums over all
 * the lab's jobs of the build, the skip rules below compare the status before the batch with the
 * status after it, and every (test, build) pair whose regressions any status change of the batch
 * can alter (its build, and the lab's next build that ran the test) is recomputed from the final
 * statuses, every lab considered.
 * 1. the status of each of their tests (LAVA's `lava` suite excluded) on each (build, lab, device
 *    type), summed over that lab's Complete, non-Infrastructure jobs of the build;
 * 2. the lab's previous and next build that ran each test (a late job of an older build makes this
 *    build the next one's "previous build") and whether a regression/fix already ends here;
 * 3. the regressions/fixes of the pairs that can change (see the skip rules below), every lab
 *    considered, upserted on (to build, device type, test, kind), rows no longer true deleted, so a
 *    re-delivered callback changes nothing.
 * Cost: a build where nothing changes costs two index lookups per test.
 * @param groups distinct (build, lab, device type) each
 * @returns per group (same order): its tests and the regressions/fixes (re)computed for its pairs
 * @throws Error when two groups name the same (build, lab, device type)
 */
export async function recomputeForGroups(tx: FrontendTx, groups: TRecomputeGroup[]): Promise<{ tests: number; transitions: number }[]> {
  if (!groups.length) return [];
  const seen = new Set<string>();
  for (const g of groups) {
    const k = `${g.build.id}\n${g.instanceId}\n${g.deviceType}`;
    if (seen.has(k)) throw new Error(`recomputeForGroups: (build ${g.build.id}, lab ${g.instanceId}, ${g.deviceType}) given twice`);
    seen.add(k);
  }
  const gid = groups.map((_, i) => i);
  const G = Prisma.sql`SELECT * FROM unnest(${gid}::int[], ${groups.map((g) => g.build.id)}::int[], ${groups.map((g) => g.instanceId)}::int[],
      ${groups.map((g) => g.deviceType)}::text[], ${groups.map((g) => g.build.tree)}::text[], ${groups.map((g) => g.build.branch)}::text[],
      ${groups.map((g) => g.build.orderKey)}::text[]) AS g(gid, build_id, instance_id, device_type, tree, branch, order_key)`;
  // Each CTE materialised and joined by index or on a handful of rows, so that the plan does not
  // depend on statistics (fresh tables have none); one aggregation per group (LATERAL), each sorting
  // only its build's cases. A test is one of the group's own when one of the new jobs ran it
  // (`bool_or`: every new job is a Complete job of its group).
  const tests = await tx.$queryRaw<{ gid: number; test: string; status: string; old_status: string | null; inserted: boolean }[]>`
    WITH g AS MATERIALIZED (${G}), agg AS MATERIALIZED (
      SELECT g.gid, g.build_id, g.instance_id, g.device_type, a.*
      FROM g CROSS JOIN LATERAL (
        SELECT ${TEST_SQL} AS test, MIN(c.suite) AS suite, MIN(c.name) AS name, MIN(NULLIF(c.test_set, '')) AS test_set,
               COUNT(*) FILTER (WHERE c.result = 'pass')::int AS pass,
               COUNT(*) FILTER (WHERE c.result = 'fail')::int AS fail,
               COUNT(*) FILTER (WHERE c.result = 'skip')::int AS skip,
               array_agg(DISTINCT c.job_id ORDER BY c.job_id) AS job_ids
        FROM federated_job j
        JOIN federated_test_case c ON c.job_id = j.id AND c.suite <> 'lava'
        WHERE j.build_id = g.build_id AND j.instance_id = g.instance_id AND j.device_type = g.device_type
          AND j.state = 'Finished' AND j.health = 'Complete' AND j.error_type IS DISTINCT FROM 'Infrastructure'
        GROUP BY 1
        HAVING bool_or(j.id = ANY(${groups.flatMap((g) => g.ids)}::int[]))
      ) a
    ), fin AS MATERIALIZED (
      SELECT agg.*, g.tree, g.branch, g.order_key,
             CASE WHEN agg.pass > 0 AND agg.fail > 0 THEN 'flaky' WHEN agg.fail > 0 THEN 'fail' WHEN agg.pass > 0 THEN 'pass' ELSE 'skip' END AS status,
             s.status AS old_status, (s.test IS NULL) AS inserted
      FROM agg
      LEFT JOIN build_test_status s
        ON s.build_id = agg.build_id AND s.device_type = agg.device_type AND s.test = agg.test AND s.instance_id = agg.instance_id
      JOIN g ON g.gid = agg.gid
    ), up AS (
    INSERT INTO build_test_status AS s (build_id, instance_id, device_type, test, suite, name, test_set, tree, branch, order_key, status, pass, fail, skip, job_ids)
    SELECT fin.build_id, fin.instance_id, fin.device_type, fin.test, fin.suite, fin.name, fin.test_set, fin.tree, fin.branch, fin.order_key,
           fin.status, fin.pass, fin.fail, fin.skip, fin.job_ids
    FROM fin
    ON CONFLICT (build_id, device_type, test, instance_id) DO UPDATE SET
      status = EXCLUDED.status, pass = EXCLUDED.pass, fail = EXCLUDED.fail, skip = EXCLUDED.skip, job_ids = EXCLUDED.job_ids
    )
    SELECT fin.gid, fin.test, fin.status, fin.old_status, fin.inserted FROM fin`;
  const out = groups.map(() => ({ tests: 0, transitions: 0 }));
  if (!tests.length) return out;
  for (const t of tests) out[t.gid]!.tests++;

  // Per (group, test), the lab's neighbours of the group's build (previous and next build that ran
  // the test, with their status) and whether a regression/fix already ends on the build.
  const hood = new Map(
    (
      await tx.$queryRaw<
        { gid: number; test: string; next_build: number | null; next_status: string | null; prev_status: string | null; has_row: boolean }[]
      >`
        WITH g AS (${G})
        SELECT t.gid, t.test, n.build_id AS next_build, n.status AS next_status, pv.status AS prev_status,
               EXISTS (SELECT 1 FROM regression r WHERE r.to_build_id = g.build_id AND r.device_type = g.device_type AND r.test = t.test) AS has_row
        FROM unnest(${tests.map((t) => t.gid)}::int[], ${tests.map((t) => t.test)}::text[]) AS t(gid, test)
        JOIN g ON g.gid = t.gid
        LEFT JOIN LATERAL (
          SELECT s.build_id, s.status FROM build_test_status s
          WHERE s.tree = g.tree AND s.branch = g.branch AND s.test = t.test AND s.device_type = g.device_type
            AND s.instance_id = g.instance_id AND s.status IN ('pass', 'fail') AND (s.order_key, s.build_id) > (g.order_key, g.build_id)
          ORDER BY s.order_key, s.build_id LIMIT 1
        ) n ON TRUE
        LEFT JOIN LATERAL (
          SELECT s.status FROM build_test_status s
          WHERE s.tree = g.tree AND s.branch = g.branch AND s.test = t.test AND s.device_type = g.device_type
            AND s.instance_id = g.instance_id AND s.status IN ('pass', 'fail') AND (s.order_key, s.build_id) < (g.order_key, g.build_id)
          ORDER BY s.order_key DESC, s.build_id DESC LIMIT 1
        ) pv ON TRUE`
    ).map((h) => [`${h.gid}\n${h.test}`, h]),
  );
  // The (test, to-build) pairs whose regressions a group can change: its build and the lab's next
  // build that ran the test — skipping what provably stays as it is, the common case:
  // - same status as before on this build: only the job lists of rows ending here can change;
  // - a first flaky/skip status here: it starts and ends nothing, the lab's chain is unchanged;
  // - a first pass/fail equal to the lab's previous and next status, no row ending here: the
  //   lab's transitions and every lab's comparability stay the same.
  // (A pair another group of the batch changes is that group's target, computed from the final statuses.)
  const targets = new Map<string, { test: string; buildId: number; deviceType: string; tree: string; branch: string }>();
  const groupTargets = groups.map(() => new Set<string>());
  const target = (gi: number, test: string, buildId: number) => {
    const g = groups[gi]!;
    const k = `${buildId}\n${g.deviceType}\n${test}`;
    groupTargets[gi]!.add(k);
    if (!targets.has(k)) targets.set(k, { test, buildId, deviceType: g.deviceType, tree: g.build.tree, branch: g.build.branch });
  };
  for (const t of tests) {
    const g = groups[t.gid]!;
    const h = hood.get(`${t.gid}\n${t.test}`);
    const definite = t.status === "pass" || t.status === "fail";
    if (!t.inserted && t.old_status === t.status) {
      if (h?.has_row) target(t.gid, t.test, g.build.id);
      continue;
    }
    if (t.inserted && !definite) continue;
    if (t.inserted && h && t.status === h.prev_status && (h.next_build === null || h.next_status === t.status) && !h.has_row) continue;
    target(t.gid, t.test, g.build.id);
    if (h?.next_build != null) target(t.gid, t.test, h.next_build);
  }
  if (!targets.size) return out;
  const ts = [...targets.values()];

  const rows = await tx.$queryRaw<(TTransitionRow & { device_type: string })[]>`
    SELECT t.test, t.build_id, t.device_type, cur.order_key, cur.suite, cur.name, cur.test_set, i.name AS lab, cur.status, cur.job_ids,
           prev.build_id AS prev_build, prev.order_key AS prev_order, prev.status AS prev_status
    FROM unnest(${ts.map((t) => t.test)}::text[], ${ts.map((t) => t.buildId)}::int[], ${ts.map((t) => t.deviceType)}::text[])
      AS t(test, build_id, device_type)
    JOIN build_test_status cur ON cur.build_id = t.build_id AND cur.device_type = t.device_type AND cur.test = t.test
    JOIN instance i ON i.id = cur.instance_id
    LEFT JOIN LATERAL (
      SELECT p.build_id, p.order_key, p.status FROM build_test_status p
      WHERE p.tree = cur.tree AND p.branch = cur.branch AND p.test = cur.test AND p.device_type = cur.device_type
        AND p.instance_id = cur.instance_id AND p.status IN ('pass', 'fail') AND (p.order_key, p.build_id) < (cur.order_key, cur.build_id)
      ORDER BY p.order_key DESC, p.build_id DESC LIMIT 1
    ) prev ON TRUE
    ORDER BY t.build_id, t.device_type, t.test, i.name`;
  const byPair = new Map<string, TTransitionRow[]>();
  for (const r of rows) {
    const k = `${r.build_id}\n${r.device_type}\n${r.test}`;
    const g = byPair.get(k);
    if (g) g.push(r);
    else byPair.set(k, [r]);
  }
  const found = [...byPair.entries()].flatMap(([k, pairRows]) => {
    const t = targets.get(k)!;
    return computeTransitions(pairRows).map((f) => ({ ...f, key: k, deviceType: t.deviceType, tree: t.tree, branch: t.branch }));
  });

  await tx.$executeRaw`
    DELETE FROM regression r
    USING unnest(${ts.map((t) => t.test)}::text[], ${ts.map((t) => t.buildId)}::int[], ${ts.map((t) => t.deviceType)}::text[])
      AS t(test, build_id, device_type)
    WHERE r.to_build_id = t.build_id AND r.device_type = t.device_type AND r.test = t.test
      AND NOT EXISTS (
        SELECT 1 FROM jsonb_to_recordset(${JSON.stringify(found.map((f) => ({ b: f.toBuildId, d: f.deviceType, t: f.test, k: f.kind })))}::jsonb)
          AS n(b int, d text, t text, k text)
        WHERE n.b = r.to_build_id AND n.d = r.device_type AND n.t = r.test AND n.k = r.kind)`;
  if (found.length) {
    await tx.$executeRaw`
      INSERT INTO regression (kind, tree, branch, device_type, test, suite, name, test_set, from_build_id, to_build_id, order_key, suspect, labs, job_ids)
      SELECT f.kind, f.tree, f.branch, f.device_type, f.test, f.suite, f.name, f.test_set, f.from_build, f.to_build, f.order_key, f.suspect,
             ARRAY(SELECT jsonb_array_elements_text(f.labs)), ARRAY(SELECT jsonb_array_elements_text(f.job_ids)::int)
      FROM jsonb_to_recordset(${JSON.stringify(
        found.map((f) => ({
          kind: f.kind,
          tree: f.tree,
          branch: f.branch,
          device_type: f.deviceType,
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
      )}::jsonb) AS f(kind text, tree text, branch text, device_type text, test text, suite text, name text, test_set text, from_build int,
                      to_build int, order_key text, suspect text, labs jsonb, job_ids jsonb)
      ON CONFLICT (to_build_id, device_type, test, kind) DO UPDATE SET
        from_build_id = EXCLUDED.from_build_id, suspect = EXCLUDED.suspect, labs = EXCLUDED.labs, job_ids = EXCLUDED.job_ids,
        suite = EXCLUDED.suite, name = EXCLUDED.name, test_set = EXCLUDED.test_set`;
  }
  groupTargets.forEach((keys, gi) => {
    out[gi]!.transitions = found.filter((f) => keys.has(f.key)).length;
  });
  return out;
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
