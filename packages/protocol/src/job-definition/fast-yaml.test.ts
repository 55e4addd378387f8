import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { fastParseYaml } from "./fast-yaml.ts";
import { MAX_YAML_ALIASES } from "./parse.ts";
import { sampleJobFiles, yamlValues } from "./testing.ts";

/**
 * The fast path must never change what a job definition means: whenever it answers, the `yaml`
 * library (the reference, with the options parseJobDefinition uses) accepts the text and gives the
 * same value. Random text is generated from YAML's own punctuation to find inputs the two parsers
 * judge differently. `npm run fuzz` runs more cases (MAGMA_FUZZ_RUNS).
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 300);
const TIMEOUT_MS = Math.max(30_000, RUNS * 30);

function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length) return { ok: false };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch {
    return { ok: false };
  }
}

/** @returns whether the fast path answered */
function agrees(text: string): boolean {
  const fast = fastParseYaml(text);
  if (!fast) return false;
  const ref = reference(text);
  expect(ref.ok, `the yaml library refuses what the fast path read: ${JSON.stringify(text)}`).toBe(true);
  if (ref.ok) expect(fast.value, JSON.stringify(text)).toStrictEqual(ref.value);
  return true;
}

const jobFiles = sampleJobFiles();

const SNIPPETS = [
  // scalars the two schemas could read differently
  ...[
    "0b101",
    "1_000",
    "0o17",
    "0O17",
    "012",
    "+5",
    "-0",
    "+0",
    ".5",
    "1.",
    "1e3",
    "1E+3",
    "1.5e-3",
    ".inf",
    "-.Inf",
    "+.INF",
    ".NaN",
    ".nan",
  ],
  ...["~", "Null", "NULL", "nUll", "yes", "no", "on", "off", "y", "n", "True", "TRUE", "tRue", "0x1F", "0X1F", "0xg", "1:2", "12:30:00"],
  ...["2026-12-01", "2026-12-01T10:00:00Z", "'quoted'", '"esc\\t\\u00e9\\x41"', "'it''s'", "a#b", "a #b", "-a", "- a", "@x", "`x", "%x"],
].flatMap((s) => [`x: ${s}\n`, `- ${s}\n`, `${s}: v\n`, `x: [${s}]\n`, `x: {k: ${s}}\n`]);

const STRUCTURES = [
  "",
  "# only a comment\n",
  "a: 1\nb:\n  - x\n  -  y\n  - - z\n    - w\n",
  "a:\n- x\n- y\n",
  "a: b: c\n",
  "a: 1\na: 2\n",
  "1: a\n'1': b\n",
  "a: {b}\n",
  "a: [b: c]\n",
  "a: [1, 2,]\n",
  "a: {x: 1,}\n",
  "a: [\n  1,\n  2\n]\n",
  "a: {\nb: 1}\n",
  "a: {b: 1,\n  c: 2}\n",
  "a: plain\n  continued\n",
  'a: "two\n  lines"\n',
  "a: 'two\n\n  lines'\n",
  "a : 1\n",
  "a:1\n",
  "- a:1\n",
  "key with spaces: v\n",
  "a:\n  b:\n    c: [1, {d: e}]\n",
  "- {a: 1}\n- [2]\n- 3\n",
  "a: 1 # comment\nb: 2#not\n",
  "a:\n  - b: 1\n    c: 2\n  - d\n",
  "a:\n    b: 1\n  c: 2\n",
  "a: 1\n b: 2\n",
  "\ufeffa: 1\n",
  "a: [x\n",
  "a: }\n",
  "a: x]\n",
  "[a, b]\n",
  "{a: 1}\n",
  "- \n- x\n",
  "a:\n",
  "a: ''\nb: \"\"\n",
  "\"a\": 1\n'b': 2\n",
  "a: 'x' y\n",
  'a: "x" y\n',
  "a: [b, c] d\n",
  "x: {a: 1} # c\n",
  "__proto__: {a: 1}\n",
  "a: " + "x".repeat(1200) + "\n",
];

describe("fastParseYaml (js-yaml for the plain subset of job definitions)", () => {
  it("reads every example job of the repository, as the yaml library does", () => {
    expect(jobFiles.length).toBeGreaterThan(5);
    const taken = jobFiles.filter((f) => agrees(readFileSync(f, "utf8")));
    // the fast path is the common path: most example jobs are in its subset
    expect(taken.length).toBeGreaterThan(jobFiles.length / 2);
  });

  it("agrees with the yaml library on tricky scalars and structures, or leaves them to it", () => {
    for (const s of [...SNIPPETS, ...STRUCTURES]) agrees(s);
    // outside the subset: anchors, tags, block scalars, explicit and collection keys, null keys
    for (const s of ["a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  x\n", "a: >-\n  x\n", "? a\n: b\n", "[a]: b\n", "~: a\n", "null: a\n"])
      expect(fastParseYaml(s)).toBeUndefined();
  });

  it(
    "agrees on random text made of YAML's punctuation (whatever both parsers make of it)",
    () => {
      const token = fc.constantFrom(
        "a",
        "b",
        "1",
        "0x1",
        ".5",
        "~",
        "true",
        "null",
        ":",
        ": ",
        " ",
        "  ",
        "\n",
        "\n  ",
        "\n- ",
        "- ",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        ", ",
        "#",
        " #",
        '"',
        "'",
        "\\",
        "?",
        "%",
        "@",
        "`",
        "|",
        ">",
        "\u00e9",
      );
      fc.assert(
        fc.property(fc.array(token, { maxLength: 40 }), (ts) => {
          agrees(ts.join(""));
        }),
        { numRuns: RUNS * 10 },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "agrees on random documents written by the yaml library in block and flow style",
    () => {
      const key = fc.constantFrom("a", "b", "job_name", "device_type", "1", "true", "x y", "k:v", "-k", "#k", "é", "");
      const words = fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom("1", "1.0", "0x10", "0o7", "-0", ".inf", "yes", "~", "null", "1_000", "a: b", "a #b", "- x", "[x]", "'", '"'),
      );
      const value = yamlValues(key, words);
      fc.assert(
        fc.property(value, fc.boolean(), (v, flow) => {
          agrees(stringify(v, flow ? { collectionStyle: "flow" } : {}));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
