"use client";
import { detailKey, passRate, pivotTrend, type TTrendPoint } from "./trend-data";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

const COLORS = ["#2563eb", "#c2410c", "#7c3aed", "#0d9488", "#db2777", "#65a30d", "#475467"];
/** Axis label of a bucket: metadata values shortened (commit hashes), hours without the year. */
const tick = (by: "day" | "hour" | "group") => (s: string) =>
  by === "hour" ? s.slice(5) : by === "day" ? s : s === "" ? "(not set)" : s.length > 14 ? `${s.slice(0, 12)}…` : s;

/**
 * Pass rate per lab over ordered buckets (days or metadata values, oldest first), one line per
 * lab (every other line dashed, so equal rates stay visible); the tooltip gives each lab's pass/fail/skip counts and job count.
 */
export function ResultsTrendChart({ points, labs, by }: { points: TTrendPoint[]; labs: string[]; by: "day" | "hour" | "group" }) {
  const data = pivotTrend(points).rows;
  return (
    <div style={{ width: "100%", height: 260 }} data-testid="results-trend-chart">
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e3e6eb" />
          <XAxis
            dataKey="bucket"
            tick={{ fontSize: 11 }}
            tickFormatter={tick(by)}
            interval="preserveStartEnd"
            minTickGap={12}
            padding={{ left: 24, right: 24 }}
          />
          <YAxis domain={[0, 100]} unit="%" tick={{ fontSize: 12 }} width={48} />
          <Tooltip content={(p) => <TrendTooltip active={p.active} payload={p.payload} label={p.label} labs={labs} />} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {labs.map((lab, i) => (
            <Line
              key={lab}
              dataKey={lab}
              name={lab}
              stroke={COLORS[i % COLORS.length]}
              strokeWidth={2}
              strokeDasharray={i % 2 ? "6 3" : undefined}
              dot={{ r: i % 2 ? 4 : 3 }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

function TrendTooltip({
  active,
  payload,
  label,
  labs,
}: {
  active?: boolean;
  payload?: ReadonlyArray<{ payload?: unknown }>;
  label?: unknown;
  labs: string[];
}) {
  if (!active || !payload?.length) return null;
  const row = payload[0]?.payload as Record<string, unknown> | undefined;
  return (
    <div className="chart-tip">
      <div className="mono" style={{ fontWeight: 600 }}>
        {String(label) || "(not set)"}
      </div>
      {labs.map((lab) => {
        const d = row?.[detailKey(lab)] as TTrendPoint | undefined;
        if (!d) return null;
        const r = passRate(d.counts);
        return (
          <div key={lab}>
            <b>{lab}</b>: {r === null ? "no pass/fail" : `${r}% pass`} · {d.counts.pass} pass / {d.counts.fail} fail / {d.counts.skip} skip
            · {d.jobs} job
            {d.jobs === 1 ? "" : "s"}
          </div>
        );
      })}
    </div>
  );
}
