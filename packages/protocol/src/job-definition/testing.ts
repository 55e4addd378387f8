import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import path from "node:path";
import { parse, stringify } from "yaml";
import { formatDefinitionErrors, parseJobDefinition } from "./parse.ts";

/** The demo QEMU job (infra/demo/jobs/qemu-inline-tests.yaml) as text, the base the job-definition tests edit. */
export const DEMO_JOB_TEXT = readFileSync(path.resolve(import.meta.dirname, "../../../../infra/demo/jobs/qemu-inline-tests.yaml"), "utf8");

/** The demo job parsed (shared: copy it with structuredClone before editing). */
export const DEMO_JOB = parse(DEMO_JOB_TEXT) as Record<string, unknown>;

/** The demo job as YAML with `edit` applied to a deep copy. */
export function demoWith(edit: (d: any) => void): string {
  const copy = structuredClone(DEMO_JOB);
  edit(copy);
  return stringify(copy);
}

/**
 * The submission errors of a definition, formatted as the API returns them.
 * @throws Error when the definition is accepted
 */
export function errorsOf(text: string): string {
  const r = parseJobDefinition(text);
  if (r.ok) throw new Error("expected the definition to be refused");
  return formatDefinitionErrors(r.errors);
}

/** Every job definition file the tests read as real input: the demo jobs (infra/demo/jobs) and job-definition/testdata, absolute paths. */
export function sampleJobFiles(): string[] {
  const root = path.resolve(import.meta.dirname, "../../../..");
  const dirs = [path.join(root, "infra/demo/jobs"), path.join(import.meta.dirname, "testdata")];
  return dirs.flatMap((d) => readdirSync(d).map((f) => path.join(d, f))).filter((f) => f.endsWith(".yaml"));
}

/**
 * Random YAML-able values for the YAML property tests: scalars from `words` (strings the test
 * cares about), integers, doubles (NaN and infinities included), booleans and null, nested in
 * arrays and mappings (keys from `key`) up to a small depth.
 */
export function yamlValues(key: fc.Arbitrary<string>, words: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(words, fc.integer(), fc.double({ noNaN: false }), fc.boolean(), fc.constant(null));
  return fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(key, tie("v"), { maxKeys: 4 })),
  })).v;
}
