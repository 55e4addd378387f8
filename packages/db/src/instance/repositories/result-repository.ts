import type { Prisma } from "../../generated/instance/client";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TCaseQuery, TTestCaseRecord, TTestSuiteRecord } from "../dto.ts";

/**
 * Test suites and cases of a job (LAVA's results). These reads do not check visibility: callers
 * first find the job through findVisibleJob (test-job-repository.ts), which applies the policy.
 */

const CASE_INCLUDE = { suite: { select: { name: true } } } as const;
type CaseRow = Prisma.TestCaseGetPayload<{ include: typeof CASE_INCLUDE }>;

function fromCaseRow(c: CaseRow): TTestCaseRecord {
  return {
    id: c.id,
    jobId: c.jobId,
    suiteId: c.suiteId,
    suite: c.suite.name,
    name: c.name,
    result: c.result,
    // Prisma's Decimal prints without trailing zeros ("1.83"), as LAVA shows a measurement
    measurement: c.measurement === null ? null : c.measurement.toString(),
    units: c.units,
    testSet: c.testSet,
    logged: c.logged,
    startLogLine: c.startLogLine,
    endLogLine: c.endLogLine,
    metadata: (c.metadata ?? {}) as Record<string, unknown>,
  };
}

/** Every suite of a job with all its cases, suites and cases by id (Magma's `jobs/<id>/results/`). */
export async function listSuitesWithCases(
  db: InstanceDb | InstanceTx,
  jobId: number,
): Promise<(TTestSuiteRecord & { cases: TTestCaseRecord[] })[]> {
  const suites = await db.testSuite.findMany({
    where: { jobId },
    orderBy: { id: "asc" },
    include: { _count: { select: { cases: true } }, cases: { orderBy: { id: "asc" }, include: CASE_INCLUDE } },
  });
  return suites.map((s) => ({ id: s.id, jobId: s.jobId, name: s.name, caseCount: s._count.cases, cases: s.cases.map(fromCaseRow) }));
}

/** One page of a job's suites by id (LAVA `jobs/<id>/suites/`) and their total. */
export async function pageSuites(
  db: InstanceDb | InstanceTx,
  jobId: number,
  limit: number,
  offset: number,
): Promise<{ count: number; results: TTestSuiteRecord[] }> {
  const [count, rows] = await Promise.all([
    db.testSuite.count({ where: { jobId } }),
    db.testSuite.findMany({
      where: { jobId },
      orderBy: { id: "asc" },
      skip: offset,
      take: limit,
      include: { _count: { select: { cases: true } } },
    }),
  ]);
  return { count, results: rows.map((s) => ({ id: s.id, jobId: s.jobId, name: s.name, caseCount: s._count.cases })) };
}

/** One page of a job's test cases, all suites, by id (LAVA `jobs/<id>/tests/`) and their total. */
export async function pageTestCases(
  db: InstanceDb | InstanceTx,
  jobId: number,
  limit: number,
  offset: number,
): Promise<{ count: number; results: TTestCaseRecord[] }> {
  const [count, rows] = await Promise.all([
    db.testCase.count({ where: { jobId } }),
    db.testCase.findMany({ where: { jobId }, orderBy: { id: "asc" }, skip: offset, take: limit, include: CASE_INCLUDE }),
  ]);
  return { count, results: rows.map(fromCaseRow) };
}

/**
 * Test cases of a job in LAVA's export order: suite by suite (suite id), cases by id within a suite,
 * as LAVA's `export_testsuite`/`export_testjob` iterate `testsuite_set` then `testcase_set`.
 */
export async function listCasesForExport(db: InstanceDb | InstanceTx, q: TCaseQuery): Promise<TTestCaseRecord[]> {
  const rows = await db.testCase.findMany({
    where: {
      jobId: q.jobId,
      ...(q.suite !== undefined ? { suite: { name: q.suite } } : {}),
      ...(q.caseName !== undefined ? { name: q.caseName } : {}),
    },
    include: CASE_INCLUDE,
    orderBy: [{ suiteId: "asc" }, { id: "asc" }],
    ...(q.offset ? { skip: q.offset } : {}),
    ...(q.limit ? { take: q.limit } : {}),
  });
  return rows.map(fromCaseRow);
}

/** Every test case of a job by case id (the notify `results` dataset groups them by suite). */
export async function listCasesById(db: InstanceDb | InstanceTx, jobId: number): Promise<TTestCaseRecord[]> {
  const rows = await db.testCase.findMany({ where: { jobId }, include: CASE_INCLUDE, orderBy: { id: "asc" } });
  return rows.map(fromCaseRow);
}

/**
 * One keyset page of a job's test cases in case-id order: at most `limit` cases with an id above
 * `afterId` (the federation's paged results, `magma/jobs/<id>/cases/`; bounded memory whatever the
 * job's size, no OFFSET scan).
 */
export async function listCasesAfter(
  db: InstanceDb | InstanceTx,
  jobId: number,
  afterId: number,
  limit: number,
): Promise<TTestCaseRecord[]> {
  const rows = await db.testCase.findMany({
    where: { jobId, id: { gt: afterId } },
    include: CASE_INCLUDE,
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map(fromCaseRow);
}

/** Number of test cases of a job. */
export async function countCases(db: InstanceDb | InstanceTx, jobId: number): Promise<number> {
  return db.testCase.count({ where: { jobId } });
}

/** Suites of a job by id: `{id, jobId, name}` (LAVA `get_testjob_suites_list_*`). */
export async function listSuiteNames(db: InstanceDb | InstanceTx, jobId: number): Promise<{ id: number; jobId: number; name: string }[]> {
  return db.testSuite.findMany({ where: { jobId }, orderBy: { id: "asc" }, select: { id: true, jobId: true, name: true } });
}
