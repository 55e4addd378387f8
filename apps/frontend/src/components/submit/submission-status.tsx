"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { TargetBadge } from "../badges";
import { ErrorBox, Loading } from "../status";
import { formatTime } from "../time";

/**
 * Per-lab status of a submission with every attempt of each target; polls every 2 s while a target
 * is queued, then every 5 s while a job it placed has not finished (a retry elsewhere may follow).
 */
export function SubmissionStatus({ id }: { id: string }) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.submissions.get.queryOptions({ id }),
    refetchInterval: (query) => {
      const targets = query.state.data?.targets ?? [];
      if (targets.some((t) => t.status === "queued")) return 2000;
      return targets.some((t) => t.status === "submitted" && t.placements.some((p) => p.status === "active" && p.state !== "Finished"))
        ? 5000
        : false;
    },
  });
  if (q.isPending) return <Loading what="submission" />;
  if (q.error)
    return (
      <ErrorBox
        title="Could not load the submission"
        error={q.error}
        hint="Reload the page; if the submission id is wrong, start again from the submit page."
      />
    );
  const s = q.data;
  const pending = s.targets.filter((t) => t.status === "queued").length;
  return (
    <>
      <div className="crumbs">
        <Link href="/submit">Submit</Link> / submission
      </div>
      <div className="page-head">
        <div>
          <h1>{s.jobName}</h1>
          <p className="subtitle">
            Device type <code>{s.deviceType}</code> · submitted {formatTime(s.createdAt)}{" "}
            {s.anyLab ? "to any lab" : `to ${s.targets.length} lab${s.targets.length > 1 ? "s" : ""}`}
            {s.retryInfrastructure > 0 && ` · retried elsewhere after Infrastructure errors up to ${s.retryInfrastructure}×`}
            {pending > 0 && ` · waiting for ${pending}`}
          </p>
        </div>
      </div>
      <div className="table-wrap">
        <table className="grid">
          <thead>
            <tr>
              <th>Lab</th>
              <th>Status</th>
              <th>Lab job</th>
              <th>Details</th>
              <th className="num">Attempts</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {s.targets.map((t) => (
              <tr key={t.id} data-testid={`target-${t.lab}`} data-status={t.status}>
                <td>
                  <strong>{t.lab}</strong>
                </td>
                <td>
                  <TargetBadge status={t.status} />
                </td>
                <td>{t.jobUrl ? <Link href={t.jobUrl}>{`${t.lab}#${t.remoteJobId}`}</Link> : "—"}</td>
                <td style={{ maxWidth: 520 }}>
                  {t.status === "failed" && <span style={{ color: "var(--bad)" }}>{t.error}</span>}
                  {t.status === "queued" && <span className="hint">{t.error ?? "waiting to be sent to the lab…"}</span>}
                  {t.status === "submitted" && (
                    <span className="hint">{t.error ?? "accepted by the lab; results appear when it calls back"}</span>
                  )}
                </td>
                <td className="num">{t.attempts}</td>
                <td className="nowrap">{formatTime(t.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {s.targets.some((t) => t.placements.length > 1 || s.anyLab) && (
        <>
          <h3 style={{ marginTop: 16 }}>Attempts</h3>
          <div className="table-wrap">
            <table className="grid" data-testid="attempts">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Lab</th>
                  <th>Lab job</th>
                  <th>State</th>
                  <th>Health</th>
                  <th>Error type</th>
                  <th>Placed</th>
                </tr>
              </thead>
              <tbody>
                {s.targets.flatMap((t) =>
                  t.placements.map((p) => (
                    <tr key={`${t.id}-${p.number}`} data-testid={`attempt-${p.number}`} data-lab={p.lab}>
                      <td className="num">{p.number}</td>
                      <td>{p.lab}</td>
                      <td>
                        {p.remoteJobId !== null ? (
                          <Link href={`/jobs/${encodeURIComponent(p.lab)}/${p.remoteJobId}`}>{`${p.lab}#${p.remoteJobId}`}</Link>
                        ) : (
                          "—"
                        )}
                      </td>
                      <td>{p.state ?? "—"}</td>
                      <td>{p.health ?? "—"}</td>
                      <td>{p.errorType ?? "—"}</td>
                      <td className="nowrap">{formatTime(p.createdAt)}</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
      <details style={{ marginTop: 16 }}>
        <summary>Definition</summary>
        <pre className="definition" style={{ marginTop: 8 }}>
          {s.definition}
        </pre>
      </details>
    </>
  );
}
