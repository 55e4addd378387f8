"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";
import { ErrorBox } from "../status";

/**
 * Device types across labs: idle/busy/bad devices and queued jobs per type, summed and per lab
 * (refreshes every 10 s, as the lab cards).
 */
export function DeviceTypeAvailability() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.labs.availability.queryOptions(), refetchInterval: 10_000 });
  if (q.error)
    return (
      <ErrorBox title="Could not load device-type availability" error={q.error} hint="Reload the page; the labs may be slow to answer." />
    );
  if (!q.data || q.data.results.length === 0) return null;
  return (
    <section style={{ marginTop: 24 }}>
      <h2>Device types across labs</h2>
      <div className="table-wrap">
        <table className="grid" data-testid="device-type-availability">
          <thead>
            <tr>
              <th>Device type</th>
              <th className="num">Idle</th>
              <th className="num">Busy</th>
              <th className="num">Bad</th>
              <th className="num">Queued</th>
              <th>Per lab (idle / busy / bad · queued)</th>
            </tr>
          </thead>
          <tbody>
            {q.data.results.map((t) => (
              <tr key={t.device_type} data-testid={`device-type-${t.device_type}`}>
                <td>
                  <code>{t.device_type}</code>
                </td>
                <td className="num">{t.idle}</td>
                <td className="num">{t.busy}</td>
                <td className="num">{t.bad}</td>
                <td className="num">{t.queue}</td>
                <td className="hint">{t.labs.map((l) => `${l.lab}: ${l.idle} / ${l.busy} / ${l.bad} · ${l.queue}`).join("; ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {q.data.unreachable.length > 0 && <p className="hint">Not counted (unreachable): {q.data.unreachable.join(", ")}</p>}
    </section>
  );
}
