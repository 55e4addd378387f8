"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo } from "react";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { ResultsChart } from "./results-chart";

/**
 * Results matrix: rows = values of a metadata key (e.g. kernel commit), columns = lab × device
 * type, cells = pass/fail/skip test case counts (LAVA's own `lava` suite excluded).
 */
export function ResultsMatrix() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const groupBy = params.get("group_by") ?? "";
  const q = useQuery({ ...trpc.results.matrix.queryOptions({ groupBy: groupBy || undefined }), placeholderData: keepPreviousData, refetchInterval: 15_000 });

  const view = useMemo(() => {
    const rows = q.data?.rows ?? [];
    const columns = [...new Set(rows.map((r) => `${r.lab}\u0000${r.deviceType}`))].sort().map((k) => {
      const [lab, deviceType] = k.split("\u0000") as [string, string];
      return { key: k, lab, deviceType };
    });
    const groups = [...new Set(rows.map((r) => r.group))];
    const cell = new Map(rows.map((r) => [`${r.group}\u0001${r.lab}\u0000${r.deviceType}`, r]));
    const perLab = new Map<string, { lab: string; pass: number; fail: number; skip: number }>();
    for (const r of rows) {
      const e = perLab.get(r.lab) ?? { lab: r.lab, pass: 0, fail: 0, skip: 0 };
      e.pass += r.counts.pass;
      e.fail += r.counts.fail;
      e.skip += r.counts.skip;
      perLab.set(r.lab, e);
    }
    return { columns, groups, cell, chart: [...perLab.values()].sort((a, b) => a.lab.localeCompare(b.lab)) };
  }, [q.data]);

  const key = q.data?.groupBy ?? groupBy;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Results</h1>
          <p className="subtitle">Test case results of every lab, grouped by a job metadata key (LAVA&apos;s own &quot;lava&quot; suite not counted).</p>
        </div>
        <label className="field">
          Group by metadata key
          <select value={key} onChange={(e) => router.push(`${pathname}?group_by=${encodeURIComponent(e.target.value)}`)} disabled={!q.data?.keys.length}>
            {!q.data?.keys.length && <option value="">(no metadata yet)</option>}
            {q.data?.keys.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
      </div>
      {q.isPending && <Loading what="results" />}
      {q.error && <ErrorBox title="Could not load results" error={q.error} />}
      {q.data && q.data.rows.length === 0 && <Empty>No results yet. They appear when labs send Finished callbacks with results.</Empty>}
      {q.data && q.data.rows.length > 0 && (
        <>
          <section className="panel">
            <h3>Test cases per lab</h3>
            <ResultsChart data={view.chart} />
          </section>
          <div className="table-wrap">
            <table className="grid" data-testid="results-matrix">
              <thead>
                <tr>
                  <th>{key || "metadata"}</th>
                  {view.columns.map((c) => (
                    <th key={c.key}>
                      {c.lab}
                      <br />
                      <span style={{ textTransform: "none", fontWeight: 400 }}>{c.deviceType}</span>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {view.groups.map((g) => (
                  <tr key={g}>
                    <td className="mono">{g ? <Link href={`/jobs?metadata.${encodeURIComponent(key)}=${encodeURIComponent(g)}`}>{g}</Link> : <span className="hint">(not set)</span>}</td>
                    {view.columns.map((c) => {
                      const r = view.cell.get(`${g}\u0001${c.key}`);
                      if (!r) return <td key={c.key} className="hint">—</td>;
                      const n = r.counts.pass + r.counts.fail + r.counts.skip || 1;
                      return (
                        <td key={c.key}>
                          <div className="matrix-cell">
                            <div className="bar" title={`${r.counts.pass} pass, ${r.counts.fail} fail, ${r.counts.skip} skip`}>
                              <span className="p" style={{ width: `${(100 * r.counts.pass) / n}%` }} />
                              <span className="f" style={{ width: `${(100 * r.counts.fail) / n}%` }} />
                              <span className="s" style={{ width: `${(100 * r.counts.skip) / n}%` }} />
                            </div>
                            <span className="mono" style={{ fontSize: 12 }}>
                              <span style={{ color: "var(--ok)" }}>{r.counts.pass}</span>/<span style={{ color: "var(--bad)" }}>{r.counts.fail}</span>/
                              <span style={{ color: "var(--warn)" }}>{r.counts.skip}</span>
                            </span>
                          </div>
                          <div className="hint">
                            {r.jobs} job{r.jobs > 1 ? "s" : ""}
                          </div>
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="hint">Cells: pass / fail / skip test cases.</p>
        </>
      )}
    </>
  );
}
