import fc from "fast-check";
import { CORE_SCHEMA, load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { readLavaResultsYaml } from "./lava-results-yaml.ts";

const core = (text: string) => load(text, { schema: CORE_SCHEMA });

/** LAVA's results export of two cases, as PyYAML dumps it. */
const LAVA = `- id: '5000'
  job: '5'
  name: case-0
  suite: 0_smoke
  result: fail
  measurement: '0.5'
  unit: ms
  logged: 2026-11-23 06:56:30.291986+00:00
  level: 1.4.2
  log_start_line: '40'
  metadata: {case: case-0, definition: 0_smoke, result: pass}
- id: 5001
  job: '5'
  name: 'it''s a case'
  suite: 0_smoke
  result: pass
  measurement: None
  unit: ''
  metadata: {}
`;

describe("readLavaResultsYaml (LAVA's results lists, fast path)", () => {
  it("reads LAVA's export with the values of js-yaml's core schema", () => {
    const r = readLavaResultsYaml(LAVA);
    expect(r).toBeDefined();
    expect(r).toEqual(core(LAVA));
    expect(r![1]!["id"]).toBe(5001);
  });

  it("declines what it does not read exactly (the caller uses a full parser)", () => {
    for (const text of [
      "",
      "[]",
      "- id: 1\n  metadata:\n    a: b\n", // nested block
      "- id: &a 1\n", // anchor
      "- id: 1 # comment\n",
      '- name: "double"\n',
      "- name: null\n",
      "- name: True\n",
      "- name: 0x1F\n",
      "- name: 1e5\n",
      "- name: a\n  name: b\n", // duplicate key
      "- name: a\n\n- name: b\n", // blank line inside
      "- name: a\r\n",
      "  name: a\n",
      "- name: 'unterminated\n",
      "- m: {a: {b: c}}\n",
      "- m: {a: 'x, y'}\n",
      "- name: a  b\n",
      "- name: a \n",
      "---\n- name: a\n",
      "- __proto__: a\n",
      "- m: {__proto__: a}\n",
      "- name: a\u2028b\n",
    ])
      expect(readLavaResultsYaml(text), JSON.stringify(text)).toBeUndefined();
  });

  it("never disagrees with js-yaml (random items, plain and single-quoted scalars)", () => {
    const piece = fc.oneof(
      fc.constantFrom(
        "null",
        "True",
        "false",
        "None",
        "~",
        "1",
        "0",
        "01",
        "12",
        "1.5",
        "1.4.2",
        "1e3",
        ".inf",
        "-1",
        "a",
        "a b",
        "a-b",
        "x/y",
      ),
      fc.constantFrom("0_smoke", "1_000", "0x1F", "0b101", "0o17", "1e+5", "1_a", "2026-11-23 06:56:30.5+00:00", "1.", "_1", "0.5", "00"),
      fc.constantFrom("#", ":", ": ", " ", "'", "''", ",", "{", "}", "[", "]", "&", "*", "!", "|", ">", "-", "?", "%", "@", "`", '"'),
      fc.string({ maxLength: 6 }),
    );
    const scalarText = fc.tuple(fc.array(piece, { minLength: 1, maxLength: 3 }), fc.constantFrom("plain", "single")).map(([p, style]) => {
      const s = p.join("");
      return style === "single" ? `'${s.replace(/'/g, "''")}'` : s;
    });
    const key = fc.constantFrom("id", "name", "result", "metadata", "unit", "null", "true", "k_1", "__proto__");
    const entry = fc
      .tuple(key, fc.oneof(scalarText, fc.array(fc.tuple(key, scalarText), { maxLength: 3 })))
      .map(([k, v]) => (typeof v === "string" ? `${k}: ${v}` : `${k}: {${v.map(([a, b]) => `${a}: ${b}`).join(", ")}}`));
    const item = fc.array(entry, { minLength: 1, maxLength: 4 }).map((es) => es.map((e, i) => (i ? `  ${e}` : `- ${e}`)).join("\n"));
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 3 }), (items) => {
        const text = items.join("\n") + "\n";
        const fast = readLavaResultsYaml(text);
        if (fast === undefined) return;
        let expected: unknown;
        try {
          expected = core(text);
        } catch (e) {
          throw new Error(`fast path accepted what js-yaml refuses: ${JSON.stringify(text)}: ${(e as Error).message}`);
        }
        expect(fast).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
