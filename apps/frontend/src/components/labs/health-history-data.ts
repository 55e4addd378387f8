import type { TLabHealthBucket } from "@magma/protocol";

/** One line of an infrastructure-error history chart: a lab, or a device type across labs. */
export interface THealthSeries {
  name: string;
  history: TLabHealthBucket[];
}

/**
 * Pivots history series into recharts rows: one row per bucket (ISO start, oldest first) with, per
 * series that has a point there, its infrastructure-error rate in percent to one decimal; a series
 * without finished jobs in a bucket has no key (a gap the line connects over). `lines` names the
 * series with at least one point, in the given order (empty: nothing to draw).
 */
export function historyChartRows(series: THealthSeries[]): { lines: string[]; rows: Record<string, number | string>[] } {
  const rows = new Map<string, Record<string, number | string>>();
  for (const s of series)
    for (const h of s.history) {
      const row = rows.get(h.bucket) ?? { bucket: h.bucket };
      row[s.name] = Math.round(h.rate * 1000) / 10;
      rows.set(h.bucket, row);
    }
  return {
    lines: series.filter((s) => s.history.length).map((s) => s.name),
    rows: [...rows.values()].sort((a, b) => String(a["bucket"]).localeCompare(String(b["bucket"]))),
  };
}
