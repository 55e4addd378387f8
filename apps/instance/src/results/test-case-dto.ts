import type { TTestCase, TTestSuite } from "@magma/protocol";
import type { TTestCaseRecord, TTestSuiteRecord } from "@magma/db/instance";
import { pyDatetime } from "../notify/format.ts";

type CaseRow = TTestCaseRecord;

/** REST `jobs/<id>/tests/` item (protocol ZTestCase). */
export function toTestCaseDto(c: CaseRow): TTestCase {
  return {
    id: c.id,
    job: c.jobId,
    suite: c.suite,
    name: c.name,
    result: c.result,
    measurement: c.measurement,
    unit: c.units,
    test_set: c.testSet,
    logged: c.logged.toISOString(),
    start_log_line: c.startLogLine,
    end_log_line: c.endLogLine,
    metadata: c.metadata,
  };
}

/** REST `jobs/<id>/suites/` item (protocol ZTestSuite). */
export function toTestSuiteDto(s: TTestSuiteRecord): TTestSuite {
  return { id: s.id, job: s.jobId, name: s.name, tests: s.caseCount };
}

/**
 * One test case as LAVA's results export (`export_testcase`, used by the notify `results` dataset
 * and `jobs/<id>/yaml/`): every value a string, `''` for missing lines, `None` for no measurement.
 */
export function toLavaTestCaseExport(c: CaseRow): Record<string, unknown> {
  const meta = c.metadata;
  return {
    id: String(c.id),
    job: String(c.jobId),
    level: typeof meta["level"] === "string" ? meta["level"] : "",
    log_end_line: c.endLogLine === null ? "" : String(c.endLogLine),
    log_start_line: c.startLogLine === null ? "" : String(c.startLogLine),
    logged: pyDatetime(c.logged),
    measurement: c.measurement ?? "None",
    metadata: meta,
    name: c.name,
    result: c.result,
    suite: c.suite,
    unit: c.units,
    url: `/results/testcase/${c.id}`,
  };
}
