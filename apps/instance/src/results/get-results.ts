import type { TJobResults, TTestCase, TTestSuite } from "@magma/protocol";
import { listSuitesWithCases, pageSuites, pageTestCases, type InstanceDb, type TInstanceViewer } from "@magma/db/instance";
import { getVisibleJob } from "../jobs/get-job.ts";
import { toTestCaseDto, toTestSuiteDto } from "./test-case-dto.ts";

/**
 * Results of a job the caller may see (REST). Each function checks visibility first.
 * @throws JobNotFound (jobs/get-job.ts) for an unknown or invisible job
 */

/** Every suite of a job with all its cases (Magma's `jobs/<id>/results/`), suites and cases by id. */
export async function getJobResults(db: InstanceDb, user: TInstanceViewer | null, jobId: number): Promise<TJobResults> {
  await getVisibleJob(db, jobId, user);
  const suites = await listSuitesWithCases(db, jobId);
  return { job: jobId, suites: suites.map((s) => ({ ...toTestSuiteDto(s), cases: s.cases.map(toTestCaseDto) })) };
}

/** Suites of a job (LAVA `jobs/<id>/suites/`), one page and the total. */
export async function listSuites(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  limit: number,
  offset: number,
): Promise<{ count: number; results: TTestSuite[] }> {
  await getVisibleJob(db, jobId, user);
  const r = await pageSuites(db, jobId, limit, offset);
  return { count: r.count, results: r.results.map(toTestSuiteDto) };
}

/** Test cases of a job, all suites (LAVA `jobs/<id>/tests/`), one page and the total. */
export async function listTestCases(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  limit: number,
  offset: number,
): Promise<{ count: number; results: TTestCase[] }> {
  await getVisibleJob(db, jobId, user);
  const r = await pageTestCases(db, jobId, limit, offset);
  return { count: r.count, results: r.results.map(toTestCaseDto) };
}
