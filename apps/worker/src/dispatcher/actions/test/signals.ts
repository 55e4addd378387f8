import { TEST_RESULTS, compileJobPattern, type TTestResult } from "@magma/protocol";
import type { RE2JS } from "re2js";
import type { JobLog } from "../../job-log.ts";
import { formatSeconds } from "../../timeout.ts";

/** LAVA's signal pattern (lava_dispatcher/actions/test/shell.py): `<LAVA_SIGNAL_NAME params>`. */
export const SIGNAL_PATTERN = /<LAVA_SIGNAL_(\S+) ([^>]+)>/g;
/** Printed by lava-test-runner once every definition ran. */
export const RUNNER_END_SENTINEL = "<LAVA_TEST_RUNNER EXIT>";
/** What lava-test-runner prints when a definition's install.sh fails (LAVA's marker; the definition is skipped). */
export const RUNNER_INSTALL_FAIL = "<LAVA_TEST_RUNNER INSTALL_FAIL>";

/** One signal found in a console line. */
export interface Signal {
  name: string;
  params: string;
}

const SIGNAL_PREFIX = "<LAVA_SIGNAL_";

/**
 * Every `<LAVA_SIGNAL_…>` in one line, in order: exactly what {@link SIGNAL_PATTERN} finds, in time
 * linear in the line length. (The backtracking regex rescans to the end of the line from every
 * `<LAVA_SIGNAL_` that does not complete, which is quadratic on a long line a DUT repeats it in.)
 * Each position of the line is scanned a bounded number of times: the next whitespace and the next
 * `>` are remembered across candidates.
 */
export function parseSignals(line: string): Signal[] {
  const out: Signal[] = [];
  const ws = /\s/g;
  let nextWs = -2; // index of the first whitespace at or after the last asked position (-1: none)
  let nextWsFrom = Infinity;
  let nextGt = -2;
  let nextGtFrom = Infinity;
  const whitespaceFrom = (p: number) => {
    if (nextWs === -2 || p < nextWsFrom || (nextWs !== -1 && p > nextWs)) {
      ws.lastIndex = p;
      const m = ws.exec(line);
      nextWs = m ? m.index : -1;
    }
    nextWsFrom = p;
    return nextWs;
  };
  const gtFrom = (p: number) => {
    if (nextGt === -2 || p < nextGtFrom || (nextGt !== -1 && p > nextGt)) nextGt = line.indexOf(">", p);
    nextGtFrom = p;
    return nextGt;
  };
  let from = 0;
  for (;;) {
    const s = line.indexOf(SIGNAL_PREFIX, from);
    if (s < 0) break;
    const nameStart = s + SIGNAL_PREFIX.length;
    const w = whitespaceFrom(nameStart);
    if (w > nameStart && line[w] === " ") {
      const g = gtFrom(w + 1);
      if (g > w + 1) {
        out.push({ name: line.slice(nameStart, w), params: line.slice(w + 1, g).trim() });
        from = g + 1;
        continue;
      }
    }
    from = s + 1;
  }
  return out;
}

/**
 * Splits TESTCASE params `TEST_CASE_ID=x RESULT=pass [MEASUREMENT=1.83 UNITS=seconds]` into a map
 * (keys upper-cased, as LAVA's `signal_test_case`).
 */
export function parseKeyValues(params: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const token of params.split(/\s+/)) {
    const eq = token.indexOf("=");
    if (eq > 0) out[token.slice(0, eq).toUpperCase()] = token.slice(eq + 1);
  }
  return out;
}

/** What the handler knows of a test definition, for the `lava.<n>_<name>` result. */
export interface DefinitionInfo {
  name: string;
  path: string;
  uuid: string;
  repository?: unknown;
  /** git definitions: the commit the clone was at (LAVA's `commit_id`) */
  commitId?: string;
  /** git definitions: the `revision` the job asked for */
  revision?: string;
  /** the definition's `parse:` block: a pattern turning output lines into test cases */
  parse?: { pattern: string; fixupdict?: Record<string, string> };
  /** the test cases the definition must report: the job's `expected:` list, else the test definition's */
  expected?: string[];
  /** true when {@link expected} comes from the job definition (LAVA then also reports it when the definition never ran) */
  expectedFromJob?: boolean;
}

/** `extra.reason` of a missing expected test case, LAVA's words. */
export const MISSING_EXPECTED_REASON = "missing expected test cases are reported as 'fail' by LAVA.";

/** LAVA's fixupdict when a definition's `parse:` gives none (PatternFixup's default). */
export const DEFAULT_FIXUPDICT: Readonly<Record<string, string>> = { PASS: "pass", FAIL: "fail", SKIP: "skip", UNKNOWN: "unknown" };

/**
 * Turns the signals of a running lava-test-shell into job log records, as LAVA's
 * `TestShellAction.check_patterns` + `signal_*` handlers: STARTRUN/ENDRUN (ENDRUN → `lava` suite
 * case `<n>_<name>` with duration), STARTTC/ENDTC (→ starttc/endtc line numbers), TESTCASE (→
 * `results` record; unknown RESULT dropped with a warning), TESTSET START/STOP, TESTREFERENCE,
 * TESTEVENT (→ `lvl: event`), TESTRAISE (→ {@link raised}, the action turns it into a TestError).
 */
export class SignalHandler {
  private currentRun: string | undefined;
  /** the running definition's `parse: pattern` (RE2) and fixupdict, while it runs */
  private runPattern: { re: RE2JS; fixup: Record<string, string> } | undefined;
  private runStartedAt = 0;
  private testSet: string | undefined;
  private readonly startTc = new Map<string, number>();
  private readonly endTc = new Map<string, number>();
  /** Message of a TESTRAISE, once one was seen. */
  raised: string | undefined;
  /** Test case results seen, in order (for the end-of-shell summary). */
  readonly cases: { definition: string; case: string; result: TTestResult; set?: string }[] = [];
  /** Definitions whose ENDRUN was seen. */
  readonly finishedRuns: string[] = [];
  /** Test case ids reported per definition (suite name), for `expected:` lists. */
  private readonly reported = new Map<string, Set<string>>();

  private overBudget = false;

  /**
   * @param caseBudget test cases the job may still report (shared by every test action of a job,
   *   `MAGMA_WORKER_MAX_TEST_CASES`): past it, further cases are dropped and `onRaise` is called once
   *   with a message naming the limit, which ends the test action with a TestError
   */
  constructor(
    private readonly log: JobLog,
    private readonly definitions: ReadonlyMap<string, DefinitionInfo>,
    private readonly onRaise?: (message: string) => void,
    private readonly caseBudget?: { remaining: number; max: number },
  ) {}

  /** Handles every signal in a console line logged at job log line `logLine`. */
  handleLine(line: string, logLine: number): void {
    const signals = parseSignals(line);
    for (const s of signals) this.handle(s, logLine);
    if (line.includes(RUNNER_INSTALL_FAIL))
      this.log.error("lava-test-runner: a test definition's install steps failed; that definition was skipped");
    if (this.runPattern && !signals.length) this.matchPattern(line, logLine);
  }

  /**
   * A line of output against the running definition's `parse: pattern`, as LAVA's
   * `pattern_test_case_result`: the groups `test_case_id` and `result` make a test case (`result`
   * mapped through the fixupdict), with `measurement` (a number) and `units` when the pattern has
   * them; a test_case_id with whitespace is skipped, as LAVA does. Linear time (RE2).
   */
  private matchPattern(line: string, logLine: number): void {
    const { re, fixup } = this.runPattern!;
    const m = re.matcher(line);
    if (!m.find()) return;
    const group = (name: string): string | null => {
      try {
        return m.group(name);
      } catch {
        return null;
      }
    };
    const id = group("test_case_id");
    let result = group("result");
    if (id === null || result === null) return;
    if (result in fixup) result = fixup[result]!;
    if (/\s/.test(id.trim())) {
      this.log.debug(`Skipping invalid test_case_id '${id.trim()}'`);
      return;
    }
    if (!isResult(result)) {
      this.log.warning(
        `parse pattern matched '${id}' with result '${result}', which is not pass, fail, skip or unknown (add it to fixupdict)`,
      );
      return;
    }
    const fields: { case: string; result: TTestResult } & Record<string, unknown> = { case: id, result };
    const measurement = group("measurement");
    if (measurement !== null && measurement !== "") {
      const n = Number(measurement);
      if (!Number.isFinite(n)) {
        this.log.warning(`parse pattern: invalid measurement '${measurement}' for '${id}'`);
        return;
      }
      fields["measurement"] = n;
      const units = group("units");
      if (units !== null) fields["units"] = units;
    }
    this.emitCase(fields, logLine, logLine);
  }

  private handle({ name, params }: Signal, logLine: number): void {
    this.log.debug(`Received signal: <${name}> ${params}`);
    switch (name) {
      case "STARTRUN": {
        const [run, uuid] = params.split(/\s+/);
        this.currentRun = run;
        this.runStartedAt = Date.now();
        this.testSet = undefined;
        this.log.info(`Starting test lava.${run} (${uuid ?? ""})`);
        const parse = run ? this.definitions.get(run)?.parse : undefined;
        this.runPattern = undefined;
        if (parse) {
          const compiled = compileJobPattern(parse.pattern);
          if (compiled.ok) {
            this.runPattern = { re: compiled.re, fixup: parse.fixupdict ?? { ...DEFAULT_FIXUPDICT } };
            this.log.info(`Enabling test definition pattern ${JSON.stringify(parse.pattern)}`);
            this.log.info(`Enabling test definition fixup ${JSON.stringify(this.runPattern.fixup)}`);
          } else this.log.error(`test definition pattern refused: ${compiled.message}`);
        } else this.log.info("Skipping test definition patterns.");
        break;
      }
      case "ENDRUN": {
        const [run = this.currentRun ?? "unknown", uuid] = params.split(/\s+/);
        const ms = Date.now() - this.runStartedAt;
        this.log.info(`Ending test lava.${run} (${uuid ?? ""}), duration ${formatSeconds(ms)}`);
        const info = this.definitions.get(run);
        if (info?.expected?.length) this.reportMissingExpected(run, info.expected);
        this.log.results({
          definition: "lava",
          case: run,
          result: "pass",
          duration: formatSeconds(ms),
          namespace: "common",
          ...(info ? { path: info.path, uuid: info.uuid, repository: info.repository, revision: info.revision ?? "unspecified" } : {}),
          ...(info?.commitId ? { commit_id: info.commitId } : {}),
        });
        this.finishedRuns.push(run);
        this.currentRun = undefined;
        this.runPattern = undefined;
        this.testSet = undefined;
        break;
      }
      case "STARTTC":
        this.startTc.set(params, logLine);
        break;
      case "ENDTC":
        this.endTc.set(params, logLine);
        break;
      case "TESTCASE":
        this.testCase(params, logLine);
        break;
      case "TESTSET": {
        const [verb, setName] = params.split(/\s+/);
        if (verb?.toUpperCase() === "START" && setName) {
          this.testSet = setName;
          this.log.info(`Starting test_set ${setName}`);
        } else if (verb?.toUpperCase() === "STOP") {
          this.log.info(`Closing test_set ${this.testSet ?? ""}`);
          this.testSet = undefined;
        } else this.log.warning(`Invalid TESTSET signal: ${params}`);
        break;
      }
      case "TESTREFERENCE": {
        const [tcId, result, reference] = params.split(/\s+/);
        if (!tcId || !result || !reference || !isResult(result)) {
          this.log.warning(`Invalid TESTREFERENCE signal: ${params}`);
          break;
        }
        this.emitCase({ case: tcId, result, reference }, logLine, logLine);
        break;
      }
      case "TESTEVENT":
        this.log.event(params);
        break;
      case "TESTFEEDBACK": {
        // LAVA reads the console of another namespace for a second; a Magma job has one namespace
        const ns = params.trim();
        if (ns === "common") this.log.info(`Requesting feedback from namespace: ${ns}`);
        else this.log.error(`${ns} is not a valid namespace`);
        break;
      }
      case "TESTRAISE":
        this.raised = params;
        this.onRaise?.(params);
        break;
      default:
        this.log.debug(`Unhandled signal ${name}`);
    }
  }

  private testCase(params: string, logLine: number): void {
    const kv = parseKeyValues(params);
    const id = kv["TEST_CASE_ID"];
    const result = kv["RESULT"]?.toLowerCase();
    if (!id || !result) {
      this.log.warning(`Ignoring malformed TESTCASE signal: ${params}`);
      return;
    }
    if (!isResult(result)) {
      this.log.warning(`Unrecognised result '${kv["RESULT"]}' for test case '${id}': dropped`);
      return;
    }
    const extra: Record<string, unknown> = {};
    if (kv["MEASUREMENT"] !== undefined) {
      const m = Number(kv["MEASUREMENT"]);
      if (Number.isFinite(m) && kv["MEASUREMENT"].trim() !== "") extra["measurement"] = m;
      else this.log.warning(`Invalid measurement '${kv["MEASUREMENT"]}' for test case '${id}': ignored`);
    }
    if (kv["UNITS"] !== undefined) extra["units"] = kv["UNITS"];
    const starttc = this.startTc.get(id) ?? logLine;
    const endtc = this.endTc.get(id) ?? logLine;
    this.startTc.delete(id);
    this.endTc.delete(id);
    this.emitCase({ case: id, result, ...extra }, starttc, endtc);
  }

  /**
   * LAVA's `handle_expected`: each case of `expected` that `suite` did not report becomes a `fail`
   * result with `extra.reason` ({@link MISSING_EXPECTED_REASON}), in sorted order.
   */
  private reportMissingExpected(suite: string, expected: readonly string[]): void {
    const seen = this.reported.get(suite) ?? new Set<string>();
    const missing = [...new Set(expected)].filter((c) => !seen.has(c)).sort();
    if (!missing.length) return;
    this.log.warning("Reporting missing expected test cases as 'fail' ...");
    for (const c of missing)
      this.emitCase({ case: c, result: "fail", extra: { reason: MISSING_EXPECTED_REASON } }, undefined, undefined, suite);
  }

  /**
   * LAVA's test-shell cleanup for `expected:` lists: a definition whose `expected:` comes from the job
   * and that never reached its end (not run, or the shell failed) still reports its missing cases as
   * `fail`. Call once when the test action ends, whatever its outcome.
   */
  finishExpected(): void {
    for (const [suite, info] of this.definitions) {
      if (!info.expectedFromJob || !info.expected?.length || this.finishedRuns.includes(suite)) continue;
      this.reportMissingExpected(suite, info.expected);
    }
  }

  private emitCase(
    fields: { case: string; result: TTestResult } & Record<string, unknown>,
    starttc: number | undefined,
    endtc: number | undefined,
    suite?: string,
  ): void {
    if (this.caseBudget) {
      if (this.caseBudget.remaining <= 0) {
        if (!this.overBudget) {
          this.overBudget = true;
          const msg = `the job reported more than ${this.caseBudget.max} test cases, the worker's limit (MAGMA_WORKER_MAX_TEST_CASES)`;
          this.log.error(msg);
          this.onRaise?.(msg);
        }
        return;
      }
      this.caseBudget.remaining--;
    }
    const definition = suite ?? this.currentRun ?? "lava";
    const expected = suite === undefined ? this.definitions.get(definition)?.expected : undefined;
    if (expected?.length && !expected.includes(fields.case)) {
      // LAVA's handle_unexpected: a case not in the expected list cannot pass
      this.log.warning(`'${fields.case}' not found in expected test case list!`);
      if (fields.result !== "fail") {
        this.log.warning(`Forcing unexpected '${fields.case}' result '${fields.result}' to 'fail' ...`);
        fields = { ...fields, result: "fail" };
      }
    }
    let seen = this.reported.get(definition);
    if (!seen) this.reported.set(definition, (seen = new Set()));
    seen.add(fields.case);
    this.log.results({
      definition,
      ...fields,
      ...(this.testSet ? { set: this.testSet } : {}),
      ...(starttc !== undefined ? { starttc } : {}),
      ...(endtc !== undefined ? { endtc } : {}),
    });
    this.cases.push({ definition, case: fields.case, result: fields.result, ...(this.testSet ? { set: this.testSet } : {}) });
  }
}

function isResult(r: string): r is TTestResult {
  return (TEST_RESULTS as readonly string[]).includes(r);
}
