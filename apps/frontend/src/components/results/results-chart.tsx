"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** Stacked pass/fail/skip bars, one per lab. */
export function ResultsChart({ data }: { data: { lab: string; pass: number; fail: number; skip: number }[] }) {
  return (
    <div style={{ width: "100%", height: 260 }} data-testid="results-chart">
      <ResponsiveContainer>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e3e6eb" />
          <XAxis dataKey="lab" tick={{ fontSize: 12 }} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="pass" stackId="r" fill="#22c55e" isAnimationActive={false} />
          <Bar dataKey="fail" stackId="r" fill="#ef4444" isAnimationActive={false} />
          <Bar dataKey="skip" stackId="r" fill="#f59e0b" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
