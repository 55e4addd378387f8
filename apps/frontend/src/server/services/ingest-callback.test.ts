import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseCallbackYaml, parseLavaTime, parseResults, stateRank } from "./ingest-callback.ts";

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

describe("parseCallbackYaml (fast path for results lists)", () => {
  it("gives the yaml library's values for LAVA's results lists and definitions", () => {
    const texts = [
      "- id: '1'\n  job: '4'\n  name: a\n  suite: 0_s\n  result: pass\n  measurement: None\n  unit: ''\n  metadata: {case: a, definition: 0_s, result: pass}\n",
      "- {id: 2, job: 4, name: b, suite: s, result: fail, measurement: '1.5', log_start_line: 17, duration: 0.25, ok: true, none: null}\n",
      "job_name: x\ndevice_type: qemu\nvisibility: {group: [a, b]}\nmetadata: {kernel.tree: mainline, git.commit: 0123abc, n: 1e3}\n",
      "",
    ];
    for (const t of texts) expect(parseCallbackYaml(t) ?? null).toEqual(parse(t));
  });
  it("leaves anchors, aliases and what js-yaml refuses to the yaml library (alias limit, same errors)", () => {
    expect(parseCallbackYaml("- &a {name: x}\n- *a\n")).toEqual(parse("- &a {name: x}\n- *a\n"));
    // PyYAML's python tags: js-yaml refuses them, the yaml library keeps the value (with a warning)
    expect(parseCallbackYaml("- !!python/unicode 'x'\n")).toEqual(["x"]);
    expect(() => parseCallbackYaml("[unclosed")).toThrow();
    const bomb = [
      "a: &a [x, x]",
      ...Array.from(
        { length: 12 },
        (_, i) => `${"b".repeat(i + 1)}: &${"b".repeat(i + 1)} [*${i ? "b".repeat(i) : "a"}, *${i ? "b".repeat(i) : "a"}]`,
      ),
    ].join("\n");
    expect(() => parseCallbackYaml(bomb)).toThrow(/alias/i);
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
