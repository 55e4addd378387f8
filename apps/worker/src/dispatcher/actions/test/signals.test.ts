import { describe, expect, it } from "vitest";
import type { TLogRecord } from "@magma/protocol";
import { JobLog } from "../../job-log.ts";
import { parseKeyValues, parseSignals, SignalHandler } from "./signals.ts";

function setup() {
  const records: TLogRecord[] = [];
  const log = new JobLog((r) => records.push(r));
  const raised: string[] = [];
  const handler = new SignalHandler(log, new Map([["0_smoke", { name: "smoke", path: "inline/smoke.yaml", uuid: "3_0.1" }]]), (m) =>
    raised.push(m),
  );
  const feed = (line: string) => handler.handleLine(line, log.target(line));
  const results = () => records.filter((r) => r.lvl === "results").map((r) => r.msg as Record<string, unknown>);
  return { records, handler, feed, results, raised };
}

describe("parseSignals", () => {
  it("finds every signal in a line, with prompt and escape noise around it", () => {
    expect(parseSignals("magma-dut:/# \x1b[6n<LAVA_SIGNAL_STARTRUN 0_smoke 3_1.1.3.1>")).toEqual([
      { name: "STARTRUN", params: "0_smoke 3_1.1.3.1" },
    ]);
    expect(parseSignals("<LAVA_SIGNAL_STARTTC a><LAVA_SIGNAL_ENDTC a>")).toHaveLength(2);
    expect(parseSignals("no signal here <LAVA_SIGNAL_>")).toEqual([]);
  });
  it("splits TESTCASE key=value params in any order", () => {
    expect(parseKeyValues("TEST_CASE_ID=boot-time RESULT=pass UNITS=seconds MEASUREMENT=1.83")).toEqual({
      TEST_CASE_ID: "boot-time",
      RESULT: "pass",
      UNITS: "seconds",
      MEASUREMENT: "1.83",
    });
  });
});

describe("SignalHandler", () => {
  it("turns a run into LAVA results: cases, measurement, sets, starttc/endtc, lava.<n>_<name>", () => {
    const { feed, results } = setup();
    feed("<LAVA_SIGNAL_STARTRUN 0_smoke 3_0.1>");
    feed("<LAVA_SIGNAL_STARTTC always-pass>");
    feed("<LAVA_SIGNAL_ENDTC always-pass>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=always-pass RESULT=pass>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=boot-time RESULT=pass UNITS=seconds MEASUREMENT=1.83>");
    feed("<LAVA_SIGNAL_TESTSET START network>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=loopback-up RESULT=pass>");
    feed("<LAVA_SIGNAL_TESTSET STOP>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=after-set RESULT=FAIL>");
    feed("<LAVA_SIGNAL_ENDRUN 0_smoke 3_0.1>");
    const r = results();
    const pass = r.find((x) => x.case === "always-pass")!;
    expect(pass).toMatchObject({ definition: "0_smoke", result: "pass" });
    expect((pass.endtc as number) - (pass.starttc as number)).toBeGreaterThan(0);
    expect(r.find((x) => x.case === "boot-time")).toMatchObject({ measurement: 1.83, units: "seconds" });
    expect(r.find((x) => x.case === "loopback-up")).toMatchObject({ set: "network" });
    expect(r.find((x) => x.case === "after-set")).toMatchObject({ result: "fail" });
    expect(r.find((x) => x.case === "after-set")).not.toHaveProperty("set");
    expect(r.find((x) => x.case === "0_smoke")).toMatchObject({
      definition: "lava",
      result: "pass",
      path: "inline/smoke.yaml",
      uuid: "3_0.1",
    });
    expect(typeof r.find((x) => x.case === "0_smoke")!.duration).toBe("string");
  });

  it("drops unknown results and bad measurements with a warning", () => {
    const { feed, results, records } = setup();
    feed("<LAVA_SIGNAL_STARTRUN 0_smoke 3_0.1>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=weird RESULT=maybe>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=m RESULT=pass MEASUREMENT=abc>");
    expect(results().find((x) => x.case === "weird")).toBeUndefined();
    expect(results().find((x) => x.case === "m")).not.toHaveProperty("measurement");
    expect(records.filter((r) => r.lvl === "warning")).toHaveLength(2);
  });

  it("reports TESTRAISE, TESTEVENT and TESTREFERENCE", () => {
    const { feed, results, records, raised, handler } = setup();
    feed("<LAVA_SIGNAL_TESTEVENT firmware updated>");
    feed("<LAVA_SIGNAL_TESTREFERENCE ref-1 pass https://example.org/x>");
    feed("<LAVA_SIGNAL_TESTRAISE disk on fire>");
    expect(records.find((r) => r.lvl === "event")?.msg).toBe("firmware updated");
    expect(results().find((x) => x.case === "ref-1")).toMatchObject({ result: "pass", reference: "https://example.org/x" });
    expect(raised).toEqual(["disk on fire"]);
    expect(handler.raised).toBe("disk on fire");
  });

  it("handles TESTFEEDBACK as LAVA does for a single-namespace job", () => {
    const { feed, records } = setup();
    feed("<LAVA_SIGNAL_TESTFEEDBACK common>");
    feed("<LAVA_SIGNAL_TESTFEEDBACK other>");
    expect(records.filter((r) => r.lvl === "info").map((r) => r.msg)).toContain("Requesting feedback from namespace: common");
    expect(records.filter((r) => r.lvl === "error").map((r) => r.msg)).toEqual(["other is not a valid namespace"]);
  });
});

describe("SignalHandler test-case budget", () => {
  it("drops cases past the job's limit and raises once, naming the limit", () => {
    const records: TLogRecord[] = [];
    const log = new JobLog((r) => records.push(r));
    const raised: string[] = [];
    const budget = { remaining: 3, max: 3 };
    const a = new SignalHandler(log, new Map(), (m) => raised.push(m), budget);
    for (let i = 0; i < 2; i++) a.handleLine(`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a${i} RESULT=pass>`, 0);
    // a second test action shares the budget
    const b = new SignalHandler(log, new Map(), (m) => raised.push(m), budget);
    for (let i = 0; i < 5; i++) b.handleLine(`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=b${i} RESULT=pass>`, 0);
    expect(records.filter((r) => r.lvl === "results").map((r) => (r.msg as Record<string, unknown>)["case"])).toEqual(["a0", "a1", "b0"]);
    expect(raised).toEqual(["the job reported more than 3 test cases, the worker's limit (MAGMA_WORKER_MAX_TEST_CASES)"]);
  });

  it("turns output lines into test cases with the definition's parse pattern and fixupdict, as LAVA", () => {
    const records: TLogRecord[] = [];
    const log = new JobLog((r) => records.push(r));
    const pattern = "^(?P<test_case_id>[\\w/.-]+):\\s+(?P<result>PASS|FAIL|SKIP|BROKEN)(\\s+(?P<measurement>[0-9.]+)\\s+(?P<units>\\S+))?";
    const handler = new SignalHandler(
      log,
      new Map([
        [
          "0_tool",
          {
            name: "tool",
            path: "inline/tool.yaml",
            uuid: "3_0.1",
            parse: { pattern, fixupdict: { PASS: "pass", FAIL: "fail", SKIP: "skip", BROKEN: "fail" } },
          },
        ],
        ["1_plain", { name: "plain", path: "inline/plain.yaml", uuid: "3_0.2" }],
      ]),
    );
    const feed = (line: string) => handler.handleLine(line, log.target(line));
    feed("<LAVA_SIGNAL_STARTRUN 0_tool 3_0.1>");
    feed("boot-check: PASS");
    feed("net/ping: BROKEN");
    feed("throughput: PASS 12.5 MB/s");
    feed("two words: FAIL");
    feed("not a result line");
    feed("<LAVA_SIGNAL_ENDRUN 0_tool 3_0.1>");
    feed("<LAVA_SIGNAL_STARTRUN 1_plain 3_0.2>");
    feed("after-the-run: PASS");
    feed("<LAVA_SIGNAL_ENDRUN 1_plain 3_0.2>");
    const results = records.filter((r) => r.lvl === "results").map((r) => r.msg as Record<string, unknown>);
    const cases = results
      .filter((r) => r["definition"] === "0_tool")
      .map(({ case: c, result, measurement, units }) => ({ c, result, measurement, units }));
    expect(cases).toEqual([
      { c: "boot-check", result: "pass", measurement: undefined, units: undefined },
      { c: "net/ping", result: "fail", measurement: undefined, units: undefined },
      { c: "throughput", result: "pass", measurement: 12.5, units: "MB/s" },
    ]);
    // a pattern belongs to its definition only
    expect(results.some((r) => r["definition"] === "1_plain" && r["case"] === "after-the-run")).toBe(false);
    expect(records.map((r) => r.msg)).toContain(`Enabling test definition pattern ${JSON.stringify(pattern)}`);
    expect(records.map((r) => r.msg)).toContain("Skipping test definition patterns.");
  });

  it("logs an error when lava-test-runner reports a failed install (the definition is skipped)", () => {
    const { feed, records } = setup();
    feed("<LAVA_TEST_RUNNER INSTALL_FAIL>");
    expect(records.filter((r) => r.lvl === "error").map((r) => r.msg)).toEqual([
      "lava-test-runner: a test definition's install steps failed; that definition was skipped",
    ]);
  });
});

describe("SignalHandler: expected test case lists (LAVA 2025.12+)", () => {
  const make = (defs: [string, Record<string, unknown>][]) => {
    const records: TLogRecord[] = [];
    const log = new JobLog((r) => records.push(r));
    const infos = new Map(defs.map(([k, v]) => [k, { name: k.split("_")[1]!, path: "x.yaml", uuid: "1_0.1", ...v }]));
    const handler = new SignalHandler(log, infos);
    const feed = (line: string) => handler.handleLine(line, log.target(line));
    const results = () => records.filter((r) => r.lvl === "results").map((r) => r.msg as Record<string, unknown>);
    const warnings = () => records.filter((r) => r.lvl === "warning").map((r) => String(r.msg));
    return { handler, feed, results, warnings };
  };

  it("reports missing expected cases as fail at the end of the run and forces unexpected ones to fail", () => {
    const { feed, results, warnings } = make([["0_smoke", { expected: ["a", "c", "b"] }]]);
    feed("<LAVA_SIGNAL_STARTRUN 0_smoke 1_0.1>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=surprise RESULT=pass>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=other RESULT=fail>");
    feed("<LAVA_SIGNAL_ENDRUN 0_smoke 1_0.1>");
    const r = results().filter((x) => x["definition"] === "0_smoke");
    expect(r.map((x) => [x["case"], x["result"]])).toEqual([
      ["a", "pass"],
      ["surprise", "fail"],
      ["other", "fail"],
      ["b", "fail"],
      ["c", "fail"],
    ]);
    expect(r.find((x) => x["case"] === "b")?.["extra"]).toEqual({ reason: "missing expected test cases are reported as 'fail' by LAVA." });
    expect(warnings()).toContain("'surprise' not found in expected test case list!");
    expect(warnings()).toContain("Forcing unexpected 'surprise' result 'pass' to 'fail' ...");
    expect(warnings()).toContain("Reporting missing expected test cases as 'fail' ...");
    // the lava.<suite> result comes after the missing cases
    expect(results().at(-1)).toMatchObject({ definition: "lava", case: "0_smoke", result: "pass" });
  });

  it("a job's expected list is reported as fail for a definition that never ended; a test definition's own list is not", () => {
    const { handler, feed, results } = make([
      ["0_ran", { expected: ["x"], expectedFromJob: true }],
      ["1_cut", { expected: ["y", "z"], expectedFromJob: true }],
      ["2_own", { expected: ["w"] }],
    ]);
    feed("<LAVA_SIGNAL_STARTRUN 0_ran 1_0.1>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass>");
    feed("<LAVA_SIGNAL_ENDRUN 0_ran 1_0.1>");
    feed("<LAVA_SIGNAL_STARTRUN 1_cut 1_0.1>");
    feed("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=y RESULT=pass>");
    handler.finishExpected();
    const r = results();
    expect(r.filter((x) => x["definition"] === "1_cut").map((x) => [x["case"], x["result"]])).toEqual([
      ["y", "pass"],
      ["z", "fail"],
    ]);
    expect(r.filter((x) => x["definition"] === "0_ran")).toHaveLength(1);
    expect(r.filter((x) => x["definition"] === "2_own")).toHaveLength(0);
  });
});
