import { stringify } from "yaml";
import type { TTestCaseRecord } from "@magma/db/instance";
import { toLavaTestCaseExport } from "../results/test-case-dto.ts";
import { pyRepr } from "./py-repr.ts";

type CaseRow = TTestCaseRecord;

/**
 * `yaml.safe_dump` look: block style, keys sorted, single-quoted strings where quoting is needed.
 * YAML 1.1 rules decide the quoting, because the readers are PyYAML (lavacli, LAVA clients): under
 * 1.2 `logged: 2026-11-23 06:55:41+00:00` would go out plain and PyYAML would load a datetime.
 */
export function pyYaml(v: unknown): string {
  return stringify(v, { version: "1.1", sortMapEntries: true, singleQuote: true, lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * LAVA's YAML results export (`jobs/<id>/yaml/`, `results.get_test{job,suite,case}_results_yaml`):
 * a list of `export_testcase` mappings, every scalar a string (`measurement: None`, `log_start_line: ''`).
 */
export function casesToYaml(rows: CaseRow[]): string {
  return rows.length ? pyYaml(rows.map(toLavaTestCaseExport)) : "[]\n";
}

/** LAVA's CSV export columns, in order (`lava_results_app.utils.testcase_export_fields`). */
export const CSV_COLUMNS = [
  "job",
  "suite",
  "result",
  "measurement",
  "unit",
  "duration",
  "timeout",
  "logged",
  "level",
  "metadata",
  "url",
  "name",
  "id",
  "log_start_line",
  "log_end_line",
] as const;

const csvCell = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** One CSV line, every cell quoted (`csv.QUOTE_ALL`), `\r\n` ends as Python's csv writer. */
export function csvRow(cells: readonly string[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}

/**
 * LAVA's CSV results export: header + one row per case. `duration` and `timeout` stay empty (LAVA
 * fills them only for very old results), `metadata` is Python's `repr` of the record.
 */
export function casesToCsv(rows: CaseRow[]): string {
  let out = csvRow(CSV_COLUMNS);
  for (const c of rows) {
    const e = toLavaTestCaseExport(c) as Record<string, unknown>;
    out += csvRow(
      CSV_COLUMNS.map((k) => (k === "metadata" ? pyRepr(e["metadata"]) : k === "duration" || k === "timeout" ? "" : String(e[k] ?? ""))),
    );
  }
  return out;
}

/** Suites list as YAML (`- {id: '3', job: '3', name: lava}` in block style) or CSV (`id,job,name`). */
export function suitesToYaml(suites: { id: number; jobId: number; name: string }[]): string {
  return suites.length ? pyYaml(suites.map((s) => ({ id: String(s.id), job: String(s.jobId), name: s.name }))) : "[]\n";
}
export function suitesToCsv(suites: { id: number; jobId: number; name: string }[]): string {
  return csvRow(["id", "job", "name"]) + suites.map((s) => csvRow([String(s.id), String(s.jobId), s.name])).join("");
}
