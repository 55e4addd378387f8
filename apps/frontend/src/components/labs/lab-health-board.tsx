"use client";
import { useQuery } from "@tanstack/react-query";
import type { TLabHealth, TLabHealthRate } from "@magma/protocol";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "~/trpc/react";
import { Badge } from "../badges";
import { Empty, ErrorBox, Loading } from "../status";
import { formatTime } from "../time";
import { historyChartRows, type THealthSeries } from "./health-history-data";

const COLORS = ["#c2410c", "#2563eb", "#7c3aed", "#0d9488", "#db2777", "#65a30d", "#475467"];

/** "12.5 % (1 of 8)" or "—" when no job finished in the window. */
function rateText(r: TLabHealthRate): string {
  if (r.rate === null) return "— (no finished jobs)";
  return `${(r.rate * 100).toFixed(1)} % (${r.infrastructure} of ${r.finished})`;
}

const names = (xs: string[]) => (xs.length ? xs.join(", ") : "none");

/** Badge of a lab's status: reachable/connected good, anything else bad. */
function StatusBadge({ lab }: { lab: TLabHealth }) {
  return <Badge tone={lab.reachable ? "ok" : "bad"}>{lab.status}</Badge>;
}

/**
 * Lab health board (/labs/health): per lab reachable or not (connected or not for an outbound-only
 * lab), last contact, workers online/offline by name, Bad and Maintenance devices, the
 * infrastructure-error rate over 24 h and 7 days and a chart of its history; per device type across
 * labs the same, with its own history chart. Refreshes every 30 s. Every value has a label
 * (`aria-label`, `data-testid`) for Playwright.
 */
export function LabHealthBoard() {
  const trpc = useTRPC();
  const board = useQuery({ ...trpc.labs.health.queryOptions(), refetchInterval: 30_000 });
  const data = board.data;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Lab health</h1>
          <p className="subtitle">
            Reachability, workers and devices as each lab reports them now; infrastructure errors (jobs ending with error type
            Infrastructure) from the federated jobs.
          </p>
        </div>
        {data && <span className="hint">checked {formatTime(data.checkedAt)} · refreshes every 30 s</span>}
      </div>
      {board.isPending && <Loading what="lab health" />}
      {board.error && (
        <ErrorBox title="Could not load the lab health" error={board.error} hint="Check the frontend's database, then reload." />
      )}
      {data && data.labs.length === 0 && <Empty>No labs configured.</Empty>}
      {data && data.labs.length > 0 && (
        <>
          <table className="table" aria-label="Lab health" data-testid="lab-health-table">
            <thead>
              <tr>
                <th>Lab</th>
                <th>Status</th>
                <th>Workers online</th>
                <th>Workers offline</th>
                <th>Bad devices</th>
                <th>Maintenance</th>
                <th>Infrastructure errors, 24 h</th>
                <th>Infrastructure errors, 7 d</th>
              </tr>
            </thead>
            <tbody>
              {data.labs.map((l) => (
                <tr key={l.name} data-testid="lab-health-row" data-lab={l.name}>
                  <td>{l.name}</td>
                  <td aria-label={`${l.name} status`}>
                    <StatusBadge lab={l} />
                    {l.mode === "outbound" && <div className="hint">outbound-only (connects to the frontend)</div>}
                    {!l.reachable && l.error && <div className="hint">{l.error}</div>}
                    {l.lastContactAt && <div className="hint">last contact {formatTime(l.lastContactAt)}</div>}
                  </td>
                  <td aria-label={`${l.name} workers online`}>{names(l.workersOnline)}</td>
                  <td aria-label={`${l.name} workers offline`}>{names(l.workersOffline)}</td>
                  <td aria-label={`${l.name} bad devices`}>{names(l.devicesBad)}</td>
                  <td aria-label={`${l.name} maintenance devices`}>{names(l.devicesMaintenance)}</td>
                  <td aria-label={`${l.name} infrastructure errors 24h`}>{rateText(l.infra24h)}</td>
                  <td aria-label={`${l.name} infrastructure errors 7d`}>{rateText(l.infra7d)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Infrastructure-error rate per lab, last 7 days</h2>
          <HistoryChart
            series={data.labs.map((l) => ({ name: l.name, history: l.history }))}
            testId="lab-health-chart"
            label="Infrastructure-error rate history per lab"
          />
          <h2>Device types across labs</h2>
          <table className="table" aria-label="Device type health" data-testid="device-type-health-table">
            <thead>
              <tr>
                <th>Device type</th>
                <th>Labs</th>
                <th>Devices</th>
                <th>Bad</th>
                <th>Maintenance</th>
                <th>Infrastructure errors, 24 h</th>
                <th>Infrastructure errors, 7 d</th>
              </tr>
            </thead>
            <tbody>
              {data.deviceTypes.map((t) => (
                <tr key={t.deviceType} data-testid="device-type-health-row" data-device-type={t.deviceType}>
                  <td>{t.deviceType}</td>
                  <td aria-label={`${t.deviceType} labs`}>{names(t.labs)}</td>
                  <td aria-label={`${t.deviceType} devices`}>{t.devices.total}</td>
                  <td aria-label={`${t.deviceType} bad devices`}>{t.devices.bad}</td>
                  <td aria-label={`${t.deviceType} maintenance devices`}>{t.devices.maintenance}</td>
                  <td aria-label={`${t.deviceType} infrastructure errors 24h`}>{rateText(t.infra24h)}</td>
                  <td aria-label={`${t.deviceType} infrastructure errors 7d`}>{rateText(t.infra7d)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Infrastructure-error rate per device type, last 7 days</h2>
          <HistoryChart
            series={data.deviceTypes.map((t) => ({ name: t.deviceType, history: t.history }))}
            testId="device-type-health-chart"
            label="Infrastructure-error rate history per device type"
          />
          <p className="hint">
            One point per {data.historyBucketHours}-hour bucket with finished jobs (percent of them ending with an Infrastructure error).
          </p>
        </>
      )}
    </>
  );
}

/** One line per series (a lab, or a device type across labs): infrastructure-error rate (%) per history bucket. */
function HistoryChart({ series, testId, label }: { series: THealthSeries[]; testId: string; label: string }) {
  const { lines: labs, rows: data } = historyChartRows(series);
  if (!labs.length) return <Empty>No job finished in the last 7 days.</Empty>;
  return (
    <div style={{ width: "100%", height: 260 }} data-testid={testId} aria-label={label}>
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e3e6eb" />
          <XAxis dataKey="bucket" tick={{ fontSize: 11 }} tickFormatter={(s: string) => s.slice(5, 13).replace("T", " ")} minTickGap={12} />
          <YAxis domain={[0, 100]} unit="%" tick={{ fontSize: 12 }} width={48} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {labs.map((lab, i) => (
            <Line
              key={lab}
              dataKey={lab}
              name={lab}
              stroke={COLORS[i % COLORS.length]}
              strokeWidth={2}
              dot={{ r: 3 }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
