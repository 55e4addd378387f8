import { describe, expect, it } from "vitest";
import { parseLavaTime, parseResults, stateRank } from "./ingest-callback.ts";

describe("callback parsing", () => {
  it("reads LAVA's str(datetime) and the string None", () => {
    expect(parseLavaTime("2026-11-23 06:56:30.291986+00:00")?.toISOString()).toBe("2026-11-23T06:56:30.291Z");
    expect(parseLavaTime("None")).toBeNull();
    expect(parseLavaTime("garbage")).toBeNull();
  });
  it("orders states so late callbacks cannot regress", () => {
    expect(stateRank("Running", "Unknown")).toBeLessThan(stateRank("Finished", "Unknown"));
    expect(stateRank("Finished", "Unknown")).toBeLessThan(stateRank("Finished", "Complete"));
  });
  it("parses results YAML, skipping unparsable cases", () => {
    const { cases, skipped } = parseResults({
      s: "- id: '1'\n  job: '4'\n  name: a\n  suite: s\n  result: pass\n  measurement: '3'\n  unit: items\n- {name: broken}\n- {id: '2', job: '4', name: b, suite: s, result: fail, measurement: None, log_start_line: '17'}\n",
      bad: "[unclosed",
    });
    expect(cases).toEqual([
      { remoteCaseId: "1", suite: "s", name: "a", result: "pass", measurement: "3", units: "items", testSet: null, logStartLine: null },
      { remoteCaseId: "2", suite: "s", name: "b", result: "fail", measurement: null, units: "", testSet: null, logStartLine: 17 },
    ]);
    expect(skipped).toHaveLength(2);
  });
});

describe("visibilityOf", () => {
  it("prefers the payload's, then the definition's, else public; unreadable values are superuser-only", async () => {
    const { visibilityOf } = await import("./ingest-callback.ts");
    expect(visibilityOf("personal", "public")).toEqual({ kind: "personal", groups: [] });
    expect(visibilityOf({ group: ["b", "a", "b"] }, "public")).toEqual({ kind: "group", groups: ["a", "b"] });
    expect(visibilityOf(undefined, "personal")).toEqual({ kind: "personal", groups: [] });
    expect(visibilityOf(undefined, undefined)).toEqual({ kind: "public", groups: [] });
    expect(visibilityOf({ group: [] }, "public")).toEqual({ kind: "restricted", groups: [] });
    expect(visibilityOf("secret", "public")).toEqual({ kind: "restricted", groups: [] });
  });
});
