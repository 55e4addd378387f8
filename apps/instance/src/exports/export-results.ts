import { listCasesForExport, listSuiteNames, type InstanceDb, type TInstanceViewer } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { getVisibleJob } from "../jobs/get-job.ts";
import { jobToJunit } from "./junit.ts";
import { casesToCsv, casesToYaml, suitesToCsv, suitesToYaml } from "./results-export.ts";

/**
 * LAVA's results exports of a job the caller may see — REST `jobs/<id>/csv|yaml|junit/` and
 * XML-RPC `results.*`. Each function checks visibility first.
 * @throws JobNotFound (jobs/get-job.ts) for an unknown or invisible job
 */

/** A REST export format and what it is served as. */
export const EXPORT_FORMATS = {
  csv: { type: "application/csv", ext: "csv" },
  yaml: { type: "application/yaml", ext: "yaml" },
  junit: { type: "application/xml", ext: "xml" },
} as const;
export type TExportFormat = keyof typeof EXPORT_FORMATS;

/** Every test case of the job as CSV, YAML (LAVA's export_testcase list) or JUnit XML (stamped with the job's end time). */
export async function exportJobResults(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  format: TExportFormat,
): Promise<string> {
  const job = await getVisibleJob(db, jobId, user);
  if (format === "junit") return jobToJunit(db, jobId, job.endTime);
  const rows = await listCasesForExport(db, { jobId });
  return format === "csv" ? casesToCsv(rows) : casesToYaml(rows);
}

/** Which cases an XML-RPC results export asks for. */
export interface CaseExportQuery {
  /** only this suite; it must exist (else NOT_FOUND `Suite '<s>' was not found in job N.`) */
  suite?: string;
  /** only cases of this name within `suite`; at least one must exist (else NOT_FOUND naming it) */
  caseName?: string;
  limit?: number;
  offset?: number;
}

/**
 * XML-RPC `results.get_test{job,suite,case}_results_{yaml,csv}`: the job's cases (all, a suite's, or
 * the named case's), in LAVA's export order.
 * @throws JobNotFound; AppError NOT_FOUND naming the missing suite or case
 */
export async function exportCases(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  q: CaseExportQuery,
  format: "yaml" | "csv",
): Promise<string> {
  await getVisibleJob(db, jobId, user);
  if (q.suite !== undefined && q.caseName === undefined) {
    const suites = await listSuiteNames(db, jobId);
    if (!suites.some((s) => s.name === q.suite)) throw new AppError("NOT_FOUND", `Suite '${q.suite}' was not found in job ${jobId}.`);
  }
  const rows = await listCasesForExport(db, { jobId, ...q });
  if (q.caseName !== undefined && !rows.length)
    throw new AppError("NOT_FOUND", `Test case '${q.caseName}' was not found in suite '${q.suite}' of job ${jobId}.`);
  return format === "yaml" ? casesToYaml(rows) : casesToCsv(rows);
}

/** XML-RPC `results.get_testjob_suites_list_{yaml,csv}`: the job's suites `{id, job, name}`. @throws JobNotFound */
export async function exportSuites(db: InstanceDb, user: TInstanceViewer | null, jobId: number, format: "yaml" | "csv"): Promise<string> {
  await getVisibleJob(db, jobId, user);
  const suites = await listSuiteNames(db, jobId);
  return format === "yaml" ? suitesToYaml(suites) : suitesToCsv(suites);
}

/** XML-RPC `results.get_testsuite_results_count`: cases in the suite (0 for an unknown suite). @throws JobNotFound */
export async function countSuiteCases(db: InstanceDb, user: TInstanceViewer | null, jobId: number, suite: string): Promise<number> {
  await getVisibleJob(db, jobId, user);
  return (await listCasesForExport(db, { jobId, suite })).length;
}
