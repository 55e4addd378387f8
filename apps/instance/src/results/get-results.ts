import type { TJobResults, TTestCase, TTestSuite } from "@magma/protocol";
import type { InstanceDb } from "@magma/db/instance";
import { toTestCaseDto, toTestSuiteDto } from "./test-case-dto.ts";

/** Every suite of a job with all its cases (Magma's `jobs/<id>/results/`), suites and cases by id. */
export async function getJobResults(db: InstanceDb, jobId: number): Promise<TJobResults> {
  const suites = await db.testSuite.findMany({
    where: { jobId },
    orderBy: { id: "asc" },
    include: { _count: { select: { cases: true } }, cases: { orderBy: { id: "asc" }, include: { suite: { select: { name: true } } } } },
  });
  return { job: jobId, suites: suites.map((s) => ({ ...toTestSuiteDto(s), cases: s.cases.map(toTestCaseDto) })) };
}

/** Suites of a job (LAVA `jobs/<id>/suites/`), one page. */
export async function listSuites(db: InstanceDb, jobId: number, limit: number, offset: number): Promise<{ count: number; results: TTestSuite[] }> {
  const [count, rows] = await Promise.all([
    db.testSuite.count({ where: { jobId } }),
    db.testSuite.findMany({ where: { jobId }, orderBy: { id: "asc" }, skip: offset, take: limit, include: { _count: { select: { cases: true } } } }),
  ]);
  return { count, results: rows.map(toTestSuiteDto) };
}

/** Test cases of a job, all suites (LAVA `jobs/<id>/tests/`), one page. */
export async function listTestCases(db: InstanceDb, jobId: number, limit: number, offset: number): Promise<{ count: number; results: TTestCase[] }> {
  const [count, rows] = await Promise.all([
    db.testCase.count({ where: { jobId } }),
    db.testCase.findMany({ where: { jobId }, orderBy: { id: "asc" }, skip: offset, take: limit, include: { suite: { select: { name: true } } } }),
  ]);
  return { count, results: rows.map(toTestCaseDto) };
}
