import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ZNotifyTestCase } from "@magma/protocol";
import { plainNotifyTestCase } from "./plain-notify-test-case.ts";

const FIELDS = ["id", "job", "name", "suite", "result", "measurement", "unit", "log_start_line", "metadata"] as const;

describe("plainNotifyTestCase (hand check of LAVA's test cases)", () => {
  it("gives ZNotifyTestCase's values for a LAVA case", () => {
    const item = { id: 5000, job: "5", name: "c", suite: "0_smoke", result: "pass", measurement: "None", unit: "", metadata: { set: "s" } };
    const fast = plainNotifyTestCase(item);
    expect(fast).toEqual({
      id: "5000",
      job: "5",
      name: "c",
      suite: "0_smoke",
      result: "pass",
      measurement: null,
      unit: "",
      log_start_line: undefined,
      metadata: { set: "s" },
    });
  });

  it("never accepts what the schema refuses, and agrees with it on what it accepts (random items)", () => {
    const v = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.constantFrom("None", "1.5", 0, 12, 1.5, NaN, Infinity, null, undefined, true, [], {}, { set: "x" }, [1], new Date(0)),
      fc.integer(),
      fc.double(),
    );
    const text = fc.string({ maxLength: 4 });
    const valid: Record<string, fc.Arbitrary<unknown>> = {
      id: fc.oneof(text, fc.integer()),
      job: fc.oneof(text, fc.integer()),
      name: text,
      suite: text,
      result: text,
      measurement: fc.oneof(fc.constant(null), fc.constant("None"), text, fc.double()),
      unit: fc.oneof(text, fc.constant(null)),
      logged: text,
      level: fc.oneof(text, fc.constant(null)),
      log_start_line: fc.oneof(text, fc.integer(), fc.constant(null)),
      log_end_line: fc.oneof(text, fc.integer(), fc.constant(null)),
      metadata: fc.oneof(fc.dictionary(text, text), fc.constant(null)),
    };
    const item = fc.oneof(
      {
        weight: 9,
        arbitrary: fc.record(
          Object.fromEntries(
            Object.entries(valid).map(([k, a]) => [k, fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: v })]),
          ),
          { requiredKeys: [] },
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(null, [], "x", 1) },
    );
    let accepted = 0;
    fc.assert(
      fc.property(item, (it) => {
        const fast = plainNotifyTestCase(it);
        const z = ZNotifyTestCase.safeParse(it);
        if (fast === undefined) return;
        accepted++;
        expect(z.success).toBe(true);
        if (!z.success) return;
        for (const k of FIELDS) expect(fast[k], k).toEqual(z.data[k]);
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
