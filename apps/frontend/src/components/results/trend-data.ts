export interface TTrendPoint {
  bucket: string;
  lab: string;
  jobs: number;
  counts: { pass: number; fail: number; skip: number };
}

/** Pass rate in % (one decimal) = pass / (pass + fail); skips not counted; null when nothing ran. */
export const passRate = (c: { pass: number; fail: number }) =>
  c.pass + c.fail ? Math.round((1000 * c.pass) / (c.pass + c.fail)) / 10 : null;

/** Key of a lab's point in a pivoted row (kept apart from the lab's own rate key). */
export const detailKey = (lab: string) => `${lab}\u0000detail`;

/**
 * Pivots ordered (bucket, lab) points into one row per bucket, in the points' order:
 * `{bucket, [lab]: pass rate | null, [detailKey(lab)]: point}`; labs sorted by name.
 */
export function pivotTrend(points: readonly TTrendPoint[]): { labs: string[]; rows: Record<string, unknown>[] } {
  const rows = new Map<string, Record<string, unknown>>();
  for (const p of points) {
    let row = rows.get(p.bucket);
    if (!row) rows.set(p.bucket, (row = { bucket: p.bucket }));
    row[p.lab] = passRate(p.counts);
    row[detailKey(p.lab)] = p;
  }
  return { labs: [...new Set(points.map((p) => p.lab))].sort(), rows: [...rows.values()] };
}
