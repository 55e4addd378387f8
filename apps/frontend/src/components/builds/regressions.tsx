"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { TRegression } from "@magma/protocol";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { Crumbs, CursorPager, JobLinks, KindBadge, ShortCommit, SuspectBadge, buildHref, qs, testHref } from "./common";
import { useUrlParams } from "../url-params";

/** Regressions and fixes as a table: kind, test (→ its history), device type, from → to, labs, suspect, jobs. */
export function RegressionTable({
  rows,
  tree,
  branch,
  showBuilds = true,
}: {
  rows: TRegression[];
  tree: string;
  branch: string;
  showBuilds?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table className="grid" data-testid="regressions">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Test</th>
            <th>Device type</th>
            {showBuilds && <th>From → to</th>}
            {!showBuilds && <th>Since</th>}
            <th>Labs seeing it</th>
            <th>Suspect</th>
            <th>Jobs</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr
              key={`${r.kind}/${r.to_commit}/${r.device_type}/${r.test}`}
              data-testid="regression-row"
              data-kind={r.kind}
              data-suspect={r.suspect}
            >
              <td>
                <KindBadge kind={r.kind} />
              </td>
              <td className="mono">
                <Link href={testHref(tree, branch, r.test, r.device_type)}>{r.test}</Link>
              </td>
              <td>{r.device_type}</td>
              <td className="nowrap">
                <Link href={buildHref(tree, branch, r.from_commit)}>
                  <ShortCommit commit={r.from_commit} />
                </Link>
                {showBuilds && (
                  <>
                    {" → "}
                    <Link href={buildHref(tree, branch, r.to_commit)}>
                      <ShortCommit commit={r.to_commit} />
                    </Link>
                  </>
                )}
              </td>
              <td>{r.labs.join(", ")}</td>
              <td>
                <SuspectBadge suspect={r.suspect} />
              </td>
              <td>
                <JobLinks jobs={r.jobs} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Kind and suspect pickers kept in the URL (`kind`, `suspect`). */
export function RegressionFilters() {
  const { get, set } = useUrlParams();
  return (
    <div className="filters" role="group" aria-label="Regression filters">
      <label className="field">
        Kind
        <select name="kind" value={get("kind") ?? ""} onChange={(e) => set({ kind: e.target.value, cursor: undefined })}>
          <option value="">regressions and fixes</option>
          <option value="regression">regressions</option>
          <option value="fix">fixes</option>
        </select>
      </label>
      <label className="field">
        Suspect
        <select name="suspect" value={get("suspect") ?? ""} onChange={(e) => set({ suspect: e.target.value, cursor: undefined })}>
          <option value="">any</option>
          <option value="code">code (every lab)</option>
          <option value="lab">lab (some labs)</option>
          <option value="unknown">unknown (one lab)</option>
        </select>
      </label>
    </div>
  );
}

const asKind = (s?: string) => (s === "regression" || s === "fix" ? s : undefined);
const asSuspect = (s?: string) => (s === "code" || s === "lab" || s === "unknown" ? s : undefined);

/** `/builds/regressions?tree=&branch=[&kind=][&suspect=][&cursor=]`: a branch's regressions and fixes, newest first. */
export function RegressionsPage() {
  const trpc = useTRPC();
  const { get, set } = useUrlParams();
  const tree = get("tree") ?? "";
  const branch = get("branch") ?? "";
  const cursor = get("cursor");
  const q = useQuery({
    ...trpc.builds.regressions.queryOptions({
      tree,
      branch,
      kind: asKind(get("kind")),
      suspect: asSuspect(get("suspect")),
      cursor,
      limit: 100,
    }),
    enabled: !!tree && !!branch,
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  return (
    <>
      <Crumbs tree={tree} branch={branch}>
        regressions
      </Crumbs>
      <div className="page-head">
        <div>
          <h1>Regressions and fixes</h1>
          <p className="subtitle">
            {tree}/{branch}: pass → fail (regression) or fail → pass (fix) against the previous build that ran the test on the same lab and
            device type.
          </p>
        </div>
        <a
          className="btn btn-link"
          href={`/api/v1/regressions?${qs({ tree, branch, kind: get("kind"), suspect: get("suspect"), cursor, limit: "1000", format: "csv" })}`}
          download
        >
          Download CSV
        </a>
      </div>
      {(!tree || !branch) && (
        <ErrorBox
          title="No branch chosen"
          error={{ message: "tree and branch are missing from the address" }}
          hint={<Link href="/builds">Pick a branch</Link>}
        />
      )}
      <RegressionFilters />
      {q.isPending && tree && branch && <Loading what="regressions" />}
      {q.error && <ErrorBox title="Could not load the regressions" error={q.error} hint="Remove filters from the address bar." />}
      {q.data && q.data.results.length === 0 && <Empty>No regressions or fixes match.</Empty>}
      {q.data && q.data.results.length > 0 && <RegressionTable rows={q.data.results} tree={tree} branch={branch} />}
      <CursorPager nextCursor={q.data?.next_cursor} />
    </>
  );
}
