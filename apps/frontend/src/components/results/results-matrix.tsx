"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useMemo } from "react";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { useUrlParams } from "../url-params";
import { ResultsChart } from "./results-chart";
import { ResultsTrendChart } from "./results-trend-chart";

/**
 * Results matrix: rows = values of a metadata key (e.g. kernel commit), columns = lab × device
 * type, cells = pass/fail/skip test case counts (LAVA's own `lava` suite excluded).
 */
export function ResultsMatrix() {
  const trpc = useTRPC();
  const pathname = usePathname();
  /** setParams: sets URL parameters (empty value = removed), keeping the others. */
  const { params, set: setParams } = useUrlParams();
  const groupBy = params.get("group_by") ?? "";
  const lab = params.get("lab") || undefined;
  const deviceType = params.get("device_type") || undefined;
  const trendParam = params.get("trend");
  const trendBy = trendParam === "group" || trendParam === "hour" ? trendParam : "day";
  const filter = { lab, deviceType };
  const q = useQuery({
    ...trpc.results.matrix.queryOptions({ groupBy: groupBy || undefined, ...filter }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const key = q.data?.groupBy ?? groupBy;
  const trend = useQuery({
    ...trpc.results.trend.queryOptions({
      by: trendBy,
      groupBy: trendBy === "group" ? key : "",
      days: trendBy === "hour" ? 2 : 30,
      ...filter,
    }),
    // time buckets need no group key: load them alongside the matrix
    enabled: trendBy !== "group" || !!q.data,
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const filtered = !!(lab || deviceType);

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

  const trendLabs = [...new Set((trend.data?.points ?? []).map((p) => p.lab))].sort();
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Results</h1>
          <p className="subtitle">
            Test case results of every lab, grouped by a job metadata key (LAVA&apos;s own &quot;lava&quot; suite not counted).
          </p>
        </div>
      </div>
      <div className="filters" role="group" aria-label="Results filters">
        <label className="field">
          Lab
          <select value={lab ?? ""} onChange={(e) => setParams({ lab: e.target.value })} name="lab">
            <option value="">all labs</option>
            {q.data?.labs.map((l) => (
              <option key={l}>{l}</option>
            ))}
            {lab && q.data && !q.data.labs.includes(lab) && <option>{lab}</option>}
          </select>
        </label>
        <label className="field">
          Device type
          <select value={deviceType ?? ""} onChange={(e) => setParams({ device_type: e.target.value })} name="device_type">
            <option value="">all device types</option>
            {q.data?.deviceTypes.map((d) => (
              <option key={d}>{d}</option>
            ))}
            {deviceType && q.data && !q.data.deviceTypes.includes(deviceType) && <option>{deviceType}</option>}
          </select>
        </label>
        <label className="field">
          Group by metadata key
          <select value={key} onChange={(e) => setParams({ group_by: e.target.value })} disabled={!q.data?.keys.length} name="group_by">
            {!q.data?.keys.length && <option value="">(no metadata yet)</option>}
            {q.data?.keys.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        {filtered && (
          <Link className="btn btn-link" href={key ? `${pathname}?group_by=${encodeURIComponent(key)}` : pathname}>
            Clear filters
          </Link>
        )}
      </div>
      {q.isPending && <Loading what="results" />}
      {q.error && (
        <ErrorBox
          title="Could not load results"
          error={q.error}
          hint="Reload the page; if it persists, remove filters from the address bar."
        />
      )}
      {q.data && q.data.rows.length === 0 && (
        <Empty>
          {filtered ? (
            <>
              No results match these filters. <Link href={pathname}>Show every lab and device type</Link>
            </>
          ) : (
            <>
              No results yet. They appear when labs send Finished callbacks with results: <Link href="/submit">submit a job</Link> with a
              test action to see some.
            </>
          )}
        </Empty>
      )}
      {q.data && q.data.rows.length > 0 && (
        <>
          <div className="chart-grid">
            <section className="panel">
              <div className="panel-head">
                <h3>
                  Pass rate per lab{" "}
                  {trendBy === "day" ? (
                    "per day (last 30 days, UTC)"
                  ) : trendBy === "hour" ? (
                    "per hour (last 48 h, UTC)"
                  ) : (
                    <>by {key} (newest 20 values)</>
                  )}
                </h3>
                <span className="seg" role="group" aria-label="Trend buckets">
                  <button
                    type="button"
                    className={trendBy === "day" ? "on" : ""}
                    aria-pressed={trendBy === "day"}
                    onClick={() => setParams({ trend: undefined })}
                  >
                    per day
                  </button>
                  <button
                    type="button"
                    className={trendBy === "hour" ? "on" : ""}
                    aria-pressed={trendBy === "hour"}
                    onClick={() => setParams({ trend: "hour" })}
                  >
                    per hour
                  </button>
                  <button
                    type="button"
                    className={trendBy === "group" ? "on" : ""}
                    aria-pressed={trendBy === "group"}
                    onClick={() => setParams({ trend: "group" })}
                    disabled={!key}
                  >
                    per {key || "metadata value"}
                  </button>
                </span>
              </div>
              {trend.error && (
                <ErrorBox
                  title="Could not load the trend"
                  error={trend.error}
                  hint="The table above is still current; reload to try the chart again."
                />
              )}
              {trend.isPending && !trend.error && <Loading what="trend" />}
              {trend.data && trend.data.points.length === 0 && <p className="hint">No results in this range.</p>}
              {trend.data && trend.data.points.length > 0 && <ResultsTrendChart points={trend.data.points} labs={trendLabs} by={trendBy} />}
              <p className="hint">Pass rate = pass / (pass + fail) test cases; skips not counted. Hover a point for the counts.</p>
            </section>
            <section className="panel">
              <h3>Test cases per lab (all time)</h3>
              <ResultsChart data={view.chart} />
            </section>
          </div>
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
                    <td className="mono">
                      {g ? (
                        <Link
                          href={`/jobs?metadata.${encodeURIComponent(key)}=${encodeURIComponent(g)}${lab ? `&lab=${encodeURIComponent(lab)}` : ""}${deviceType ? `&device_type=${encodeURIComponent(deviceType)}` : ""}`}
                        >
                          {g}
                        </Link>
                      ) : (
                        <span className="hint">(not set)</span>
                      )}
                    </td>
                    {view.columns.map((c) => {
                      const r = view.cell.get(`${g}\u0001${c.key}`);
                      if (!r)
                        return (
                          <td key={c.key} className="hint">
                            —
                          </td>
                        );
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
                              <span style={{ color: "var(--ok)" }}>{r.counts.pass}</span>/
                              <span style={{ color: "var(--bad)" }}>{r.counts.fail}</span>/
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
