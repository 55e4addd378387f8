"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback } from "react";
import { useTRPC } from "~/trpc/react";
import { Badge, HealthBadge, ResultBadge, StateBadge } from "../badges";
import { Empty, ErrorBox, Loading } from "../status";
import { formatDuration, Time } from "../time";
import { CancelJobButton } from "./cancel-job-button";
import { JobLog } from "./job-log";

/** One federated job: header, metadata, results by suite (growing while it runs), definition and log. */
export function JobPage({ lab, id }: { lab: string; id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const jobId = Number(id);
  const valid = Number.isInteger(jobId) && jobId > 0;
  const opts = trpc.jobs.get.queryOptions({ lab, id: jobId });
  const job = useQuery({
    ...opts,
    enabled: valid,
    // a Running job's test cases arrive while it runs (the lab pushes them at most once a second): refetch
    // every 2 s then, every 5 s while queued, never once Finished
    refetchInterval: (q) => (!q.state.data || q.state.data.state === "Finished" ? false : q.state.data.state === "Running" ? 2000 : 5000),
  });
  const onEnd = useCallback(() => void qc.invalidateQueries({ queryKey: opts.queryKey }), [qc, opts.queryKey]);

  if (!valid) return <ErrorBox title="Bad job id" error={{ message: `"${id}" is not a job number` }} />;
  if (job.isPending) return <Loading what={`job ${lab}#${id}`} />;
  if (job.error)
    return (
      <>
        <div className="crumbs">
          <Link href="/jobs">Jobs</Link> / {lab} / #{id}
        </div>
        <ErrorBox title={`Job ${lab}#${id}`} error={job.error} />
      </>
    );
  const j = job.data;
  const total = j.suites.reduce((a, s) => ({ pass: a.pass + s.counts.pass, fail: a.fail + s.counts.fail, skip: a.skip + s.counts.skip }), {
    pass: 0,
    fail: 0,
    skip: 0,
  });
  return (
    <>
      <div className="crumbs">
        <Link href="/jobs">Jobs</Link> / <Link href={`/jobs?lab=${encodeURIComponent(j.lab)}`}>{j.lab}</Link> / #{j.id}
      </div>
      <div className="job-head">
        <h1>
          {j.lab}#{j.id} · {j.name}
        </h1>
        <StateBadge state={j.state} />
        <HealthBadge health={j.health} testId="job-health" />
        {j.healthCheck && <Badge tone="info">health check</Badge>}
        {j.state !== "Finished" && <CancelJobButton lab={j.lab} id={j.id} submitter={j.submitter} onDone={onEnd} />}
      </div>
      {j.failureComment && (
        <ErrorBox title={`Failure${j.errorType ? ` (${j.errorType} error)` : ""}`} error={{ message: j.failureComment }} />
      )}

      <div className="two-col" style={{ marginTop: 16 }}>
        <section className="panel">
          <h3>Job</h3>
          <dl className="kv">
            <dt>Device type</dt>
            <dd>{j.deviceType}</dd>
            <dt>Device</dt>
            <dd className="mono">{j.actualDevice ?? "—"}</dd>
            <dt>Submitter</dt>
            <dd>{j.submitter}</dd>
            <dt>Priority</dt>
            <dd>{j.priority}</dd>
            <dt>Submitted</dt>
            <dd>
              <Time iso={j.submitTime} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time iso={j.startTime} />
            </dd>
            <dt>Ended</dt>
            <dd>
              <Time iso={j.endTime} />
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(j.startTime, j.endTime)}</dd>
            {j.errorType && (
              <>
                <dt>Error type</dt>
                <dd>{j.errorType}</dd>
              </>
            )}
          </dl>
        </section>
        <section className="panel">
          <h3>Metadata</h3>
          {Object.keys(j.metadata).length === 0 ? (
            <p className="hint">This job has no metadata.</p>
          ) : (
            <dl className="kv">
              {Object.entries(j.metadata).map(([k, v]) => (
                <div key={k} style={{ display: "contents" }}>
                  <dt>{k}</dt>
                  <dd className="mono">
                    <Link href={`/jobs?metadata.${encodeURIComponent(k)}=${encodeURIComponent(v)}`} title="Jobs with the same value">
                      {v}
                    </Link>
                  </dd>
                </div>
              ))}
            </dl>
          )}
        </section>
      </div>

      <h2>
        Results{j.state === "Running" && j.suites.length > 0 ? <span className="hint"> (so far, live)</span> : null}{" "}
        <span className="counts">
          <ResultBadge result="pass" /> {total.pass} <ResultBadge result="fail" /> {total.fail} <ResultBadge result="skip" /> {total.skip}
        </span>
      </h2>
      {j.suites.length === 0 ? (
        <Empty>
          {j.state === "Finished"
            ? "This job reported no test results."
            : j.state === "Running"
              ? "No results yet: its test cases appear here as the lab records them."
              : j.state === "Canceling"
                ? "No results yet."
                : "No results yet: the job has not started."}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="grid">
            <thead>
              <tr>
                <th>Test case</th>
                <th>Result</th>
                <th className="num">Measurement</th>
                <th>Units</th>
                <th>Set</th>
              </tr>
            </thead>
            {j.suites.map((s) => (
              <tbody key={s.name}>
                <tr>
                  <td colSpan={5} className="suite-row">
                    <strong>{s.name}</strong>{" "}
                    <span className="hint">
                      {s.counts.pass} pass · {s.counts.fail} fail · {s.counts.skip} skip
                      {s.counts.unknown ? ` · ${s.counts.unknown} unknown` : ""}
                    </span>
                  </td>
                </tr>
                {s.cases.map((c) => (
                  <tr key={c.id} data-testid="testcase-row" data-result={c.result}>
                    <td className="mono">{c.name}</td>
                    <td>
                      <ResultBadge result={c.result} />
                    </td>
                    <td className="num mono">{c.measurement ?? ""}</td>
                    <td>{c.units}</td>
                    <td>{c.testSet ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        </div>
      )}

      <h2>Log</h2>
      <JobLog lab={j.lab} id={j.id} live={j.state !== "Finished"} onEnd={onEnd} />

      <h2>Definition</h2>
      <pre className="definition">{j.definition}</pre>
    </>
  );
}
