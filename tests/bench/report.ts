/**
 * Benchmark results: per-measure statistics (n, p50, p95, max), target check, the console table and
 * `bench-results.json` (measures + machine info + date).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import Table from "cli-table3";

/** A target: the measured statistic must be below (`<`) or above (`>`) `value`. */
export interface Target {
  stat: "p50" | "p95" | "max";
  op: "<" | ">";
  value: number;
}

export interface Measure {
  /** group, e.g. "submit" */
  group: string;
  name: string;
  unit: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
  /** LAVA's figure on this machine, as text (LAVA 2023.01 measured on a 2-core machine of this kind) */
  lava?: string;
  /** one or more targets, all must hold */
  target?: Target | Target[];
  /** null when there is no target */
  met: boolean | null;
  note?: string;
  /** side-by-side runs (`--against-lava`): both servers' medians and LAVA / Magma (rates: Magma / LAVA) */
  sides?: { lava: { p50: number; n: number }; magma: { p50: number; n: number }; ratio: number };
}

/** Nearest-rank percentile of `xs` (0 < p ≤ 100). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const median = (xs: number[]) => percentile(xs, 50);

/** Builds a measure from raw samples (each sample one repetition). */
export function measure(
  group: string,
  name: string,
  unit: string,
  samples: number[],
  opts: { target?: Target | Target[]; lava?: string; note?: string } = {},
): Measure {
  const m: Measure = {
    group,
    name,
    unit,
    n: samples.length,
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    max: round(Math.max(...samples)),
    lava: opts.lava,
    target: opts.target,
    met: null,
    note: opts.note,
  };
  if (opts.target) {
    m.met = targets(opts.target).every((t) => (t.op === "<" ? m[t.stat] < t.value : m[t.stat] > t.value));
  }
  return m;
}

/** A measure that could not be taken (missing component): reported, never "met". */
export function notMeasured(
  group: string,
  name: string,
  unit: string,
  note: string,
  opts: { target?: Target | Target[]; lava?: string } = {},
): Measure {
  return {
    group,
    name,
    unit,
    n: 0,
    p50: NaN,
    p95: NaN,
    max: NaN,
    lava: opts.lava,
    target: opts.target,
    met: opts.target ? false : null,
    note,
  };
}

function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 10_000 ? Math.round(x).toLocaleString("en-US") : String(x)) : "—");
const targets = (t?: Target | Target[]) => (t === undefined ? [] : Array.isArray(t) ? t : [t]);
const fmtTarget = (t?: Target | Target[]) =>
  targets(t)
    .map((x) => `${x.stat} ${x.op} ${fmt(x.value)}`)
    .join(", ");

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  postgres?: string;
}

export function machineInfo(postgres?: string): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    postgres,
  };
}

/** The console table (also used, as markdown, in the README). */
export function renderTable(measures: Measure[]): string {
  const t = new Table({
    head: ["group", "measure", "unit", "n", "p50", "p95", "max", "LAVA", "target", "met"],
    style: { head: [], border: [] },
  });
  for (const m of measures) {
    t.push([
      m.group,
      m.name + (m.note ? `\n  (${m.note})` : ""),
      m.unit,
      m.n,
      fmt(m.p50),
      fmt(m.p95),
      fmt(m.max),
      m.lava ?? "",
      fmtTarget(m.target),
      m.met === null ? "" : m.met ? "yes" : "NO",
    ]);
  }
  return t.toString();
}

/** Markdown rendering of the same table. */
export function renderMarkdown(measures: Measure[]): string {
  const rows = ["| group | measure | unit | n | p50 | p95 | max | LAVA | target | met |", "|---|---|---|---|---|---|---|---|---|---|"];
  for (const m of measures) {
    rows.push(
      `| ${m.group} | ${m.name}${m.note ? ` (${m.note})` : ""} | ${m.unit} | ${m.n} | ${fmt(m.p50)} | ${fmt(m.p95)} | ${fmt(m.max)} | ${m.lava ?? ""} | ${fmtTarget(m.target)} | ${m.met === null ? "" : m.met ? "yes" : "**no**"} |`,
    );
  }
  return rows.join("\n");
}

/** Writes `bench-results.json`. */
export function writeResults(
  file: string,
  data: { mode: string; date: string; durationS: number; machine: MachineInfo; measures: Measure[]; errors: string[] },
): void {
  writeFileSync(file, JSON.stringify(data, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n");
}
