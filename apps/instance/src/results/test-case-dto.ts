import type { TTestCase, TTestSuite } from "@magma/protocol";
import type { TestCase, TestSuite } from "@magma/db/instance";
import { pyDatetime } from "../notify/format.ts";

type CaseRow = TestCase & { suite: Pick<TestSuite, "name"> };

/** Decimal measurement as LAVA shows it (`"1.83"`), or null. */
export function measurementString(m: TestCase["measurement"]): string | null {
  return m === null ? null : m.toString();
}

/** REST `jobs/<id>/tests/` item (protocol ZTestCase). */
export function toTestCaseDto(c: CaseRow): TTestCase {
  return {
    id: c.id,
    job: c.jobId,
    suite: c.suite.name,
    name: c.name,
    result: c.result,
    measurement: measurementString(c.measurement),
    unit: c.units,
    test_set: c.testSet,
    logged: c.logged.toISOString(),
    start_log_line: c.startLogLine,
    end_log_line: c.endLogLine,
    metadata: (c.metadata ?? {}) as Record<string, unknown>,
  };
}

/** REST `jobs/<id>/suites/` item (protocol ZTestSuite). */
export function toTestSuiteDto(s: TestSuite & { _count: { cases: number } }): TTestSuite {
  return { id: s.id, job: s.jobId, name: s.name, tests: s._count.cases };
}

/**
 * One test case as LAVA's results export (`export_testcase`, used by the notify `results` dataset
 * and `jobs/<id>/yaml/`): every value a string, `''` for missing lines, `None` for no measurement.
 */
export function toLavaTestCaseExport(c: CaseRow): Record<string, unknown> {
  const meta = (c.metadata ?? {}) as Record<string, unknown>;
  return {
    id: String(c.id),
    job: String(c.jobId),
    level: typeof meta["level"] === "string" ? meta["level"] : "",
    log_end_line: c.endLogLine === null ? "" : String(c.endLogLine),
    log_start_line: c.startLogLine === null ? "" : String(c.startLogLine),
    logged: pyDatetime(c.logged),
    measurement: c.measurement === null ? "None" : c.measurement.toString(),
    metadata: meta,
    name: c.name,
    result: c.result,
    suite: c.suite.name,
    unit: c.units,
    url: `/results/testcase/${c.id}`,
  };
}
