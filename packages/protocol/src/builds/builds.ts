import { z } from "zod";

/**
 * Which job metadata keys name a build (KernelCI's "checkout"): for each field, the keys tried in
 * order, the first non-empty value wins. The defaults are the keys KernelCI writes into the LAVA job
 * definitions it submits (`metadata:` block): `kernel.tree`, `git.branch` / `kernel.branch`,
 * `git.commit` / `kernel.commit`, `git.describe`, `git.url`, `kernel.version`.
 */
export const BUILD_FIELDS = ["tree", "branch", "commit", "describe", "url", "kernel_version"] as const;
export type TBuildField = (typeof BUILD_FIELDS)[number];

export const DEFAULT_BUILD_KEYS: Readonly<Record<TBuildField, readonly string[]>> = {
  tree: ["kernel.tree"],
  branch: ["git.branch", "kernel.branch"],
  commit: ["git.commit", "kernel.commit"],
  describe: ["git.describe"],
  url: ["git.url"],
  kernel_version: ["kernel.version"],
};

const ZKeyList = z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(10)]);

/**
 * A partial mapping overriding {@link DEFAULT_BUILD_KEYS} field by field, e.g.
 * `{"tree": "tree_name", "commit": ["git.commit", "revision"]}` (a string is one key). Unknown fields
 * are an error naming the field.
 */
export const ZBuildKeyMapping = z
  .strictObject({
    tree: ZKeyList.optional(),
    branch: ZKeyList.optional(),
    commit: ZKeyList.optional(),
    describe: ZKeyList.optional(),
    url: ZKeyList.optional(),
    kernel_version: ZKeyList.optional(),
  })
  .transform((m) => {
    const out = { ...DEFAULT_BUILD_KEYS } as Record<TBuildField, readonly string[]>;
    for (const f of BUILD_FIELDS) {
      const v = m[f];
      if (v !== undefined) out[f] = typeof v === "string" ? [v] : v;
    }
    return out;
  });
export type TBuildKeys = z.output<typeof ZBuildKeyMapping>;

/** A build as named by one job's metadata; optional fields are null when no key carried them. */
export interface TBuildRef {
  tree: string;
  branch: string;
  commit: string;
  describe: string | null;
  url: string | null;
  kernelVersion: string | null;
}

/**
 * The build a job belongs to, from its metadata (string values), or null when tree, branch or commit
 * is missing (such jobs still appear in the job list and the results matrix). Values are trimmed and
 * cut to 500 characters.
 */
export function buildFromMetadata(metadata: Record<string, string>, keys: TBuildKeys = DEFAULT_BUILD_KEYS): TBuildRef | null {
  const pick = (f: TBuildField): string | null => {
    for (const k of keys[f]) {
      const v = metadata[k];
      if (typeof v === "string" && v.trim() && v.trim() !== "None") return v.trim().slice(0, 500);
    }
    return null;
  };
  const tree = pick("tree");
  const branch = pick("branch");
  const commit = pick("commit");
  if (!tree || !branch || !commit) return null;
  return { tree, branch, commit, describe: pick("describe"), url: pick("url"), kernelVersion: pick("kernel_version") };
}

/**
 * LAVA's name of a test case: `suite.case`, with `.set` appended when the case has a test set
 * (e.g. `0_smoke.always-fail`). Used as the test's identity in regressions and history.
 */
export function testPath(suite: string, name: string, set: string | null | undefined): string {
  return set ? `${suite}.${name}.${set}` : `${suite}.${name}`;
}

// ---- /api/v1 JSON shapes (snake_case) ----

/** A link to a federated job: lab name, job id on that lab, frontend path of its page. */
export const ZJobLink = z.object({ lab: z.string(), id: z.number().int(), url: z.string() });
export type TJobLink = z.infer<typeof ZJobLink>;

const ZCounts = { pass: z.number().int(), fail: z.number().int(), skip: z.number().int() };

/** One lab's part of a build: its jobs, case counts, infrastructure failures and regressions/fixes. */
export const ZBuildLabSummary = z.object({
  lab: z.string(),
  jobs: z.number().int(),
  ...ZCounts,
  /** Incomplete jobs or jobs with error_type Infrastructure: counted against the lab, never regressions. */
  infrastructure_failures: z.number().int(),
  regressions: z.number().int(),
  fixes: z.number().int(),
});
export type TBuildLabSummary = z.infer<typeof ZBuildLabSummary>;

/** `GET /api/v1/builds` item. `labs` is per lab; the counts are totals over labs. */
export const ZBuildSummary = z.object({
  tree: z.string(),
  branch: z.string(),
  commit: z.string(),
  describe: z.string().nullable(),
  url: z.string().nullable(),
  kernel_version: z.string().nullable(),
  first_seen: z.string(),
  labs: z.array(ZBuildLabSummary),
  jobs: z.number().int(),
  ...ZCounts,
  regressions: z.number().int(),
  fixes: z.number().int(),
});
export type TBuildSummary = z.infer<typeof ZBuildSummary>;

/** `GET /api/v1/builds` → newest build first; pass `next_cursor` as `cursor` for the next page. */
export const ZBuildListResponse = z.object({ results: z.array(ZBuildSummary), next_cursor: z.string().nullable() });
export type TBuildListResponse = z.infer<typeof ZBuildListResponse>;

export const REGRESSION_KINDS = ["regression", "fix"] as const;
export const SUSPECTS = ["code", "lab", "unknown"] as const;

/** `GET /api/v1/regressions` item. `test` is `suite.case[.set]`; `labs` see the new status. */
export const ZRegression = z.object({
  kind: z.enum(REGRESSION_KINDS),
  test: z.string(),
  suite: z.string(),
  case: z.string(),
  set: z.string().nullable(),
  tree: z.string(),
  branch: z.string(),
  from_commit: z.string(),
  to_commit: z.string(),
  device_type: z.string(),
  labs: z.array(z.string()),
  suspect: z.enum(SUSPECTS),
  jobs: z.array(ZJobLink),
});
export type TRegression = z.infer<typeof ZRegression>;

export const ZRegressionListResponse = z.object({ results: z.array(ZRegression), next_cursor: z.string().nullable() });
export type TRegressionListResponse = z.infer<typeof ZRegressionListResponse>;

/** Status of a test on one build and lab: pass | fail | skip | flaky (pass and fail on the same build and lab). */
export const TEST_STATUSES = ["pass", "fail", "skip", "flaky"] as const;
export const ZTestStatus = z.enum(TEST_STATUSES);

/** One lab × device type cell of a test's history. */
export const ZTestHistoryCell = z.object({
  lab: z.string(),
  device_type: z.string(),
  result: ZTestStatus,
  pass: z.number().int(),
  fail: z.number().int(),
  skip: z.number().int(),
  jobs: z.array(ZJobLink),
});

/** `GET /api/v1/tests/history`: per build (newest first), per lab. */
export const ZTestHistoryResponse = z.object({
  test: z.string(),
  tree: z.string(),
  branch: z.string(),
  results: z.array(
    z.object({
      commit: z.string(),
      describe: z.string().nullable(),
      first_seen: z.string(),
      labs: z.array(ZTestHistoryCell),
    }),
  ),
  next_cursor: z.string().nullable(),
});
export type TTestHistoryResponse = z.infer<typeof ZTestHistoryResponse>;

/** `GET /api/v1/builds/compare`: tests whose status differs between two builds, per lab and device type (null = not run). */
export const ZBuildCompareResponse = z.object({
  tree: z.string(),
  branch: z.string(),
  from: z.string(),
  to: z.string(),
  results: z.array(
    z.object({
      test: z.string(),
      suite: z.string(),
      case: z.string(),
      set: z.string().nullable(),
      lab: z.string(),
      device_type: z.string(),
      from_status: ZTestStatus.nullable(),
      to_status: ZTestStatus.nullable(),
    }),
  ),
});
export type TBuildCompareResponse = z.infer<typeof ZBuildCompareResponse>;

/** `GET /api/v1/trees`: each tree/branch with its build count and newest build. */
export const ZTreeListResponse = z.object({
  results: z.array(
    z.object({
      tree: z.string(),
      branch: z.string(),
      builds: z.number().int(),
      latest: z.object({ commit: z.string(), describe: z.string().nullable(), first_seen: z.string() }),
    }),
  ),
});
export type TTreeListResponse = z.infer<typeof ZTreeListResponse>;

// ---- KCIDB export (schema v4) ----

/** KCIDB v4 test status (PASS/FAIL/SKIP from LAVA results; ERROR for unknown results and for cases of Incomplete/Infrastructure jobs). */
export const KCIDB_STATUSES = ["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"] as const;

/**
 * The subset of KCIDB I/O schema v4 (kcidb-io `v04_xx`) the frontend exports: one checkout per
 * build, one KCIDB build per (build, lab, device type) — Magma runs prebuilt kernels, so a "build"
 * is where they were tested — and one test per LAVA test case, `path` being `suite.case[.set]`.
 * Ids are `<origin>:<text>` as KCIDB requires; `origin` is `magma`.
 */
export const ZKcidbExport = z.object({
  version: z.object({ major: z.literal(4), minor: z.number().int() }),
  checkouts: z.array(
    z.object({
      id: z.string(),
      origin: z.string().regex(/^[a-z0-9_]+$/),
      tree_name: z.string(),
      git_repository_url: z.string().optional(),
      git_repository_branch: z.string(),
      git_commit_hash: z.string(),
      git_commit_name: z.string().optional(),
      start_time: z.string(),
      valid: z.boolean(),
    }),
  ),
  builds: z.array(
    z.object({
      id: z.string(),
      checkout_id: z.string(),
      origin: z.string(),
      comment: z.string(),
      valid: z.boolean(),
    }),
  ),
  tests: z.array(
    z.object({
      id: z.string(),
      build_id: z.string(),
      origin: z.string(),
      path: z.string(),
      status: z.enum(KCIDB_STATUSES),
      log_url: z.string(),
      start_time: z.string().optional(),
      environment: z.object({ comment: z.string() }),
      misc: z.object({ lab: z.string(), job_id: z.number().int(), device_type: z.string() }),
    }),
  ),
});
export type TKcidbExport = z.infer<typeof ZKcidbExport>;

// ---------------------------------------------------------------------------------------------
// tRPC inputs of the builds pages (browser → frontend); the /api/v1 routes parse URL parameters

const ZBuildName = z.string().min(1).max(500);
/** One branch of one tree. */
export const ZBranchRef = z.object({ tree: ZBuildName, branch: ZBuildName });
/** A branch's builds, newest first, keyset-paged. */
export const ZBuildListInput = ZBranchRef.extend({
  limit: z.number().int().min(1).max(200).default(30),
  cursor: z.string().max(4000).nullish(),
});
/** One build of a branch. */
export const ZBuildRefInput = ZBranchRef.extend({ commit: ZBuildName });
/** A branch's regressions and fixes, filtered and keyset-paged. */
export const ZRegressionListInput = ZBranchRef.extend({
  commit: ZBuildName.optional(),
  kind: z.enum(REGRESSION_KINDS).optional(),
  suspect: z.enum(SUSPECTS).optional(),
  deviceType: ZBuildName.optional(),
  lab: ZBuildName.optional(),
  test: ZBuildName.optional(),
  limit: z.number().int().min(1).max(1000).default(200),
  cursor: z.string().max(4000).nullish(),
});
/** One test's history across builds and labs. */
export const ZTestHistoryInput = ZBranchRef.extend({
  test: ZBuildName,
  deviceType: ZBuildName.optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().max(4000).nullish(),
});
/** Two builds of a branch to compare. */
export const ZBuildCompareInput = ZBranchRef.extend({
  from: ZBuildName,
  to: ZBuildName,
  limit: z.number().int().min(1).max(5000).default(1000),
});
/** `GET /api/v1/trees` takes no parameter. */
export const ZNoQuery = z.object({});
