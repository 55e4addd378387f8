"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { Time } from "../time";
import { Crumbs, CursorPager, LabDeviceTypeHeader, ShortCommit, StatusBadge, buildHref, qs } from "./common";
import { useUrlParams } from "../url-params";

/**
 * Pass rate per build (oldest left) as an inline SVG line: passing / (passing + failing) lab cells,
 * flaky cells counting half. Builds where the test only skipped are left out.
 */
export function Sparkline({ rates }: { rates: number[] }) {
  if (rates.length < 1) return null;
  const w = Math.max(60, rates.length * 12);
  const h = 28;
  const x = (i: number) => (rates.length === 1 ? w / 2 : (i * (w - 4)) / (rates.length - 1) + 2);
  const y = (r: number) => h - 3 - r * (h - 6);
  return (
    <svg width={w} height={h} role="img" aria-label={`pass rate over ${rates.length} builds`} data-testid="sparkline">
      <polyline fill="none" stroke="var(--accent)" strokeWidth={1.5} points={rates.map((r, i) => `${x(i)},${y(r)}`).join(" ")} />
      {rates.map((r, i) => (
        <circle key={i} cx={x(i)} cy={y(r)} r={2} fill={r === 1 ? "var(--ok)" : r === 0 ? "var(--bad)" : "var(--warn)"} />
      ))}
    </svg>
  );
}

/**
 * `/builds/test?tree=&branch=&test=[&device_type=][&cursor=]`: one test's history as a grid — a row
 * per build (newest first), a column per lab × device type, each cell its status and jobs — with a
 * pass-rate sparkline.
 */
export function TestHistoryPage() {
  const trpc = useTRPC();
  const { get, set } = useUrlParams();
  const tree = get("tree") ?? "";
  const branch = get("branch") ?? "";
  const test = get("test") ?? "";
  const deviceType = get("device_type");
  const cursor = get("cursor");
  const q = useQuery({
    ...trpc.builds.history.queryOptions({ tree, branch, test, deviceType, cursor, limit: 50 }),
    enabled: !!(tree && branch && test),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const rows = q.data?.results ?? [];
  const columns = [...new Set(rows.flatMap((b) => b.labs.map((c) => `${c.lab}\u0000${c.device_type}`)))].sort();
  const deviceTypes = [...new Set(rows.flatMap((b) => b.labs.map((c) => c.device_type)))].sort();
  const rates = [...rows]
    .reverse()
    .map((b) => {
      const ran = b.labs.filter((c) => c.result !== "skip");
      return ran.length ? ran.reduce((a, c) => a + (c.result === "pass" ? 1 : c.result === "flaky" ? 0.5 : 0), 0) / ran.length : null;
    })
    .filter((r): r is number => r !== null);
  return (
    <>
      <Crumbs tree={tree} branch={branch}>
        <span className="mono">{test}</span>
      </Crumbs>
      <div className="page-head">
        <div>
          <h1 className="mono" data-testid="test-title">
            {test || "(no test)"}
          </h1>
          <p className="subtitle">
            History on {tree}/{branch} across builds and labs{deviceType ? ` (${deviceType})` : ""}.
          </p>
        </div>
        <span>
          <Sparkline rates={rates} />{" "}
          <a
            className="btn btn-link"
            href={`/api/v1/tests/history?${qs({ test, tree, branch, device_type: deviceType, cursor, limit: "200", format: "csv" })}`}
            download
          >
            Download CSV
          </a>
        </span>
      </div>
      <div className="filters" role="group" aria-label="Test filters">
        <label className="field">
          Device type
          <select name="device_type" value={deviceType ?? ""} onChange={(e) => set({ device_type: e.target.value, cursor: undefined })}>
            <option value="">all device types</option>
            {deviceTypes.map((d) => (
              <option key={d}>{d}</option>
            ))}
            {deviceType && !deviceTypes.includes(deviceType) && <option>{deviceType}</option>}
          </select>
        </label>
      </div>
      {(!tree || !branch || !test) && (
        <ErrorBox
          title="No test chosen"
          error={{ message: "tree, branch and test are needed in the address" }}
          hint={<Link href="/builds">Pick a branch</Link>}
        />
      )}
      {q.isPending && tree && branch && test && <Loading what="history" />}
      {q.error && (
        <ErrorBox title="Could not load the history" error={q.error} hint="Check the test name (suite.case) in the address bar." />
      )}
      {q.data && rows.length === 0 && (
        <Empty>
          No build of {tree}/{branch} ran {test}
          {deviceType ? ` on ${deviceType}` : ""}.
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="grid" data-testid="test-history">
            <thead>
              <tr>
                <th>Build</th>
                <th>First seen</th>
                {columns.map((c) => (
                  <LabDeviceTypeHeader key={c} column={c} />
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((b) => (
                <tr key={b.commit} data-testid="history-row">
                  <td>
                    <Link href={buildHref(tree, branch, b.commit)}>{b.describe ?? <ShortCommit commit={b.commit} />}</Link>
                  </td>
                  <td className="nowrap">
                    <Time iso={b.first_seen} />
                  </td>
                  {columns.map((c) => {
                    const cell = b.labs.find((x) => `${x.lab}\u0000${x.device_type}` === c);
                    if (!cell)
                      return (
                        <td key={c} className="hint">
                          —
                        </td>
                      );
                    return (
                      <td key={c} data-testid="history-cell" data-result={cell.result}>
                        {cell.jobs[0] ? (
                          <Link href={cell.jobs[0].url} title={cell.jobs.map((j) => `${j.lab}#${j.id}`).join(", ")}>
                            <StatusBadge status={cell.result} />
                          </Link>
                        ) : (
                          <StatusBadge status={cell.result} />
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CursorPager nextCursor={q.data?.next_cursor} hint="A cell links to its job; flaky = pass and fail on the same build and lab." />
    </>
  );
}
