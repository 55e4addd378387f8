"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useTRPC } from "~/trpc/react";
import { HealthBadge } from "../badges";
import { Empty, ErrorBox, Loading } from "../status";
import { Time } from "../time";
import { Crumbs, JobLinks, LabDeviceTypeHeader, ShortCommit, StatusBadge, qs, testHref } from "./common";
import { useUrlParams } from "../url-params";
import { RegressionFilters, RegressionTable } from "./regressions";

/**
 * `/builds/build?tree=&branch=&commit=[&kind=][&suspect=]`: one build — per-lab summary, the labs ×
 * device types × suites matrix, its regressions and fixes with suspect badges (filters in the URL),
 * failing and flaky tests with their jobs, every job, and a picker to compare with another build.
 */
export function BuildPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const { get } = useUrlParams();
  const tree = get("tree") ?? "";
  const branch = get("branch") ?? "";
  const commit = get("commit") ?? "";
  const kind = get("kind");
  const suspect = get("suspect");
  const q = useQuery({
    ...trpc.builds.build.queryOptions({ tree, branch, commit }),
    enabled: !!(tree && branch && commit),
    refetchInterval: 15_000,
  });
  const others = useQuery({ ...trpc.builds.list.queryOptions({ tree, branch, limit: 50 }), enabled: !!(tree && branch) });
  if (!tree || !branch || !commit)
    return (
      <ErrorBox
        title="No build chosen"
        error={{ message: "tree, branch and commit are needed in the address" }}
        hint={<Link href="/builds">Pick a branch</Link>}
      />
    );
  if (q.isPending) return <Loading what="build" />;
  if (q.error)
    return (
      <ErrorBox
        title="Could not load the build"
        error={q.error}
        hint={
          <Link href={`/builds?${qs({ tree, branch })}`}>
            See the builds of {tree}/{branch}
          </Link>
        }
      />
    );
  const { build, matrix, failures, jobs, regressions } = q.data;
  const columns = [...new Set(matrix.map((m) => `${m.lab}\u0000${m.deviceType}`))].sort();
  const suites = [...new Set(matrix.map((m) => m.suite))].sort();
  const cell = new Map(matrix.map((m) => [`${m.suite}\u0001${m.lab}\u0000${m.deviceType}`, m]));
  const shown = regressions.filter((r) => (!kind || r.kind === kind) && (!suspect || r.suspect === suspect));
  return (
    <>
      <Crumbs tree={tree} branch={branch}>
        <ShortCommit commit={commit} />
      </Crumbs>
      <div className="page-head">
        <div>
          <h1 data-testid="build-title">{build.describe ?? <ShortCommit commit={build.commit} />}</h1>
          <p className="subtitle">
            {tree}/{branch} · commit <span className="mono">{build.commit}</span>
            {build.kernel_version && <> · kernel {build.kernel_version}</>} · first seen <Time iso={build.first_seen} />
            {build.url && (
              <>
                {" "}
                · <span className="mono">{build.url}</span>
              </>
            )}
          </p>
        </div>
        <label className="field">
          Compare with
          <select
            name="compare"
            defaultValue=""
            onChange={(e) => e.target.value && router.push(`/builds/compare?${qs({ tree, branch, from: e.target.value, to: commit })}`)}
          >
            <option value="">another build…</option>
            {others.data?.results
              .filter((b) => b.commit !== commit)
              .map((b) => (
                <option key={b.commit} value={b.commit}>
                  {b.describe ?? b.commit.slice(0, 12)}
                </option>
              ))}
          </select>
        </label>
      </div>

      <section className="panel">
        <h3>Labs</h3>
        <table className="grid" data-testid="build-labs">
          <thead>
            <tr>
              <th>Lab</th>
              <th>Jobs</th>
              <th>Pass</th>
              <th>Fail</th>
              <th>Skip</th>
              <th>Infrastructure failures</th>
              <th>Regressions</th>
              <th>Fixes</th>
            </tr>
          </thead>
          <tbody>
            {build.labs.map((l) => (
              <tr key={l.lab}>
                <td>{l.lab}</td>
                <td>{l.jobs}</td>
                <td style={{ color: "var(--ok)" }}>{l.pass}</td>
                <td style={{ color: "var(--bad)" }}>{l.fail}</td>
                <td>{l.skip}</td>
                <td title="Incomplete or Infrastructure-error jobs: counted against the lab, never regressions">
                  {l.infrastructure_failures}
                </td>
                <td>{l.regressions}</td>
                <td>{l.fixes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <p className="hint">
        Export:{" "}
        <a href={`/api/v1/kcidb?${qs({ tree, branch, commit })}`} download>
          KCIDB v4 JSON
        </a>
        {" · "}
        <a href={`/api/v1/regressions?${qs({ tree, branch, commit, limit: "1000", format: "csv" })}`} download>
          regressions CSV
        </a>
      </p>
      <h2>Regressions and fixes</h2>
      <RegressionFilters />
      {shown.length === 0 ? (
        <Empty>No regressions or fixes on this build{kind || suspect ? " match the filters" : ""}.</Empty>
      ) : (
        <RegressionTable rows={shown} tree={tree} branch={branch} showBuilds={false} />
      )}

      <h2>Tests by suite, lab and device type</h2>
      {suites.length === 0 ? (
        <Empty>No test results from Complete jobs yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="grid" data-testid="build-matrix">
            <thead>
              <tr>
                <th>Suite</th>
                {columns.map((c) => (
                  <LabDeviceTypeHeader key={c} column={c} />
                ))}
              </tr>
            </thead>
            <tbody>
              {suites.map((s) => (
                <tr key={s}>
                  <td className="mono">{s}</td>
                  {columns.map((c) => {
                    const m = cell.get(`${s}\u0001${c}`);
                    if (!m)
                      return (
                        <td key={c} className="hint">
                          —
                        </td>
                      );
                    return (
                      <td
                        key={c}
                        className="mono"
                        style={{ fontSize: 12 }}
                        title={`${m.pass} pass, ${m.fail} fail, ${m.flaky} flaky, ${m.skip} skip (tests)`}
                      >
                        <span style={{ color: "var(--ok)" }}>{m.pass}</span>/<span style={{ color: "var(--bad)" }}>{m.fail}</span>
                        {m.flaky > 0 && <span style={{ color: "var(--warn)" }}> ~{m.flaky}</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="hint">Cells: passing/failing tests (~ flaky: pass and fail on this build and lab).</p>

      <h2>Failing and flaky tests</h2>
      {failures.length === 0 ? (
        <Empty>No failing tests.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="grid" data-testid="build-failures">
            <thead>
              <tr>
                <th>Test</th>
                <th>Lab</th>
                <th>Device type</th>
                <th>Status</th>
                <th>Jobs</th>
              </tr>
            </thead>
            <tbody>
              {failures.map((f) => (
                <tr key={`${f.test}/${f.lab}/${f.deviceType}`}>
                  <td className="mono">
                    <Link href={testHref(tree, branch, f.test, f.deviceType)}>{f.test}</Link>
                  </td>
                  <td>{f.lab}</td>
                  <td>{f.deviceType}</td>
                  <td>
                    <StatusBadge status={f.status} />
                  </td>
                  <td>
                    <span className="chips">
                      {f.jobs.map((j) => (
                        <Link
                          key={`${j.lab}/${j.id}`}
                          href={j.url}
                          className="chip mono"
                          title={j.line !== null ? `log line ${j.line}` : "job page"}
                        >
                          {j.lab}#{j.id}
                          {j.line !== null && <> · log L{j.line}</>}
                        </Link>
                      ))}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Jobs</h2>
      <div className="table-wrap">
        <table className="grid" data-testid="build-jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>Name</th>
              <th>Device type</th>
              <th>State</th>
              <th>Health</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={`${j.lab}/${j.id}`}>
                <td>
                  <Link href={`/jobs/${encodeURIComponent(j.lab)}/${j.id}`} className="mono">
                    {j.lab}#{j.id}
                  </Link>
                </td>
                <td>{j.name}</td>
                <td>{j.deviceType}</td>
                <td>{j.state}</td>
                <td>
                  <HealthBadge health={j.health} /> {j.errorType && <span className="hint">{j.errorType}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
