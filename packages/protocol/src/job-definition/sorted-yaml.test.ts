import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseJobDefinition } from "./parse.ts";
import { stringifySortedYaml } from "./sorted-yaml.ts";
import { sampleJobFiles, yamlValues } from "./testing.ts";

/**
 * The normalised definition must be the `yaml` library's text, character for character: the
 * repository's example jobs, tricky scalars and random documents are written both ways and
 * compared. `npm run fuzz` runs more cases (MAGMA_FUZZ_RUNS).
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 300);
const TIMEOUT_MS = Math.max(30_000, RUNS * 30);

const reference = (v: Record<string, unknown>) => stringify(v, { sortMapEntries: true, lineWidth: 0 });
const same = (v: Record<string, unknown>) => expect(stringifySortedYaml(v), JSON.stringify(v)).toBe(reference(v));

const jobFiles = sampleJobFiles();

const TRICKY = [
  "",
  " ",
  "a ",
  " a",
  "a  b",
  "/ #",
  "root@qemu:~#",
  "$ ",
  "a: b",
  "a:b",
  "a:",
  "http://127.0.0.1/vmlinuz",
  "- x",
  "-x",
  "-",
  "?",
  "? x",
  "#x",
  "a #b",
  "a#b",
  "[x]",
  "{x}",
  "x, y",
  "x,",
  "'",
  '"',
  "it's",
  'say "hi"',
  "both ' and \"",
  "\\",
  "@x",
  "`x",
  "%x",
  "&x",
  "*x",
  "!x",
  "|",
  ">",
  "~",
  "null",
  "Null",
  "NULL",
  "nUll",
  "true",
  "True",
  "TRUE",
  "false",
  "yes",
  "no",
  "on",
  "off",
  "1",
  "-1",
  "+1",
  "1.5",
  ".5",
  "1e3",
  "0x1F",
  "0o17",
  "012",
  ".inf",
  "-.inf",
  ".nan",
  "1_000",
  "2026-12-01",
  "12:30:00",
  "---",
  "...",
  "--- x",
  "a\tb",
  "\u00e9t\u00e9",
  "\u0007bell",
  "\u0085",
  "\ufeffbom",
  "x".repeat(300),
  "a (b) c=d+e/f.g@h,i-j:k",
  "a\nb",
  "a\n",
  "a\r\nb",
];

describe("stringifySortedYaml (the normalised job definition)", () => {
  it("writes every example job of the repository as the yaml library does", () => {
    expect(jobFiles.length).toBeGreaterThan(5);
    for (const f of jobFiles) {
      const r = parseJobDefinition(readFileSync(f, "utf8"));
      if (r.ok) same(r.raw);
    }
  });

  it("writes tricky strings, numbers and empty collections as the yaml library does, as values and as keys", () => {
    for (const s of TRICKY) {
      same({ k: s });
      same({ [s]: "v" });
      same({ l: [s, { [s]: s }, [s]] });
    }
    for (const n of [0, -0, 1, -1, 1.5, -2.25, 1e21, 2 ** 53, 2 ** 53 + 2, 1e-7, NaN, Infinity, -Infinity]) same({ n, l: [n] });
    same({});
    same({ a: {}, b: [], c: [{}, [], [[]], [{}]], d: null, e: true, f: false });
    same({ b: 1, a: 2, B: 3, _: 4, "1": 5, "10": 6, "2": 7, "\u00e9": 8 });
    same({ d: new Date(0), m: new Map([["a", 1]]) } as Record<string, unknown>);
  });

  it(
    "writes random documents as the yaml library does",
    () => {
      const key = fc.oneof(
        fc.constantFrom("a", "b", "job_name", "device_type", "kernel.tree", "1", "true", "x y", "k:v", "k: v", "-k", "#k", "\u00e9", ""),
        fc.string({ maxLength: 8 }),
      );
      const words = fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.string({
          unit: fc.constantFrom("a", "Z", "0", "_", "/", ".", ":", "=", "+", "@", "(", ")", ",", "-", " ", "#", "'", '"'),
          maxLength: 12,
        }),
        fc.constantFrom(
          "1",
          "1.0",
          "0x10",
          "0o7",
          "-0",
          ".inf",
          "yes",
          "~",
          "null",
          "1_000",
          "a: b",
          "a #b",
          "- x",
          "[x]",
          "'",
          '"',
          "/ #",
        ),
      );
      const value = yamlValues(key, words);
      fc.assert(
        fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (v) => {
          same(v);
        }),
        { numRuns: RUNS * 3 },
      );
    },
    TIMEOUT_MS,
  );
});
