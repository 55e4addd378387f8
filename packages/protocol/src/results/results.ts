import { z } from "zod";

/** TestCase.result — LAVA ints 0 pass, 1 fail, 2 skip, 3 unknown. */
export const TEST_RESULTS = ["pass", "fail", "skip", "unknown"] as const;
export const ZTestResult = z.enum(TEST_RESULTS);
export type TTestResult = z.infer<typeof ZTestResult>;

/**
 * The `msg` of a `lvl: results` log record (lava_common/log.py results): the suite is
 * `definition` (`lava` for pipeline actions, `<index>_<name>` for test definitions).
 * `measurement` is a decimal number, `units` free text; `starttc`/`endtc` are log line numbers.
 */
export const ZResultMessage = z.looseObject({
  definition: z.string().min(1).max(200),
  case: z.string().min(1).max(200),
  result: ZTestResult,
  measurement: z.union([z.number(), z.string()]).optional(),
  units: z.string().max(100).optional(),
  set: z.string().max(200).optional(),
  starttc: z.number().int().optional(),
  endtc: z.number().int().optional(),
  level: z.string().optional(),
  duration: z.union([z.number(), z.string()]).optional(),
  namespace: z.string().optional(),
  error_type: z.string().optional(),
  error_msg: z.string().optional(),
});
export type TResultMessage = z.infer<typeof ZResultMessage>;

/** REST `jobs/<id>/tests/` item, LAVA's field names (measurement as a decimal string or null). */
export const ZTestCase = z.object({
  id: z.number().int(),
  job: z.number().int(),
  suite: z.string(),
  name: z.string(),
  result: ZTestResult,
  measurement: z.string().nullable(),
  unit: z.string(),
  test_set: z.string().nullable(),
  logged: z.string(),
  start_log_line: z.number().int().nullable(),
  end_log_line: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});
export type TTestCase = z.infer<typeof ZTestCase>;

/** REST `jobs/<id>/suites/` item. */
export const ZTestSuite = z.object({ id: z.number().int(), job: z.number().int(), name: z.string(), tests: z.number().int() });
export type TTestSuite = z.infer<typeof ZTestSuite>;
