import type { TJobResults, TTestCase, TTestSuite } from "@magma/protocol";
import { listSuitesWithCases, pageSuites, pageTestCases, type InstanceDb } from "@magma/db/instance";
import { toTestCaseDto, toTestSuiteDto } from "./test-case-dto.ts";

/** Every suite of a job with all its cases (Magma's `jobs/<id>/results/`), suites and cases by id. */
export async function getJobResults(db: InstanceDb, jobId: number): Promise<TJobResults> {
  const suites = await listSuitesWithCases(db, jobId);
  return { job: jobId, suites: suites.map((s) => ({ ...toTestSuiteDto(s), cases: s.cases.map(toTestCaseDto) })) };
}

/** Suites of a job (LAVA `jobs/<id>/suites/`), one page. */
export async function listSuites(db: InstanceDb, jobId: number, limit: number, offset: number): Promise<{ count: number; results: TTestSuite[] }> {
  const r = await pageSuites(db, jobId, limit, offset);
  return { count: r.count, results: r.results.map(toTestSuiteDto) };
}

/** Test cases of a job, all suites (LAVA `jobs/<id>/tests/`), one page. */
export async function listTestCases(db: InstanceDb, jobId: number, limit: number, offset: number): Promise<{ count: number; results: TTestCase[] }> {
  const r = await pageTestCases(db, jobId, limit, offset);
  return { count: r.count, results: r.results.map(toTestCaseDto) };
}
