"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { Time } from "../time";
import { Crumbs, ShortCommit, branchHref, buildHref } from "./common";
import { useUrlParams } from "../url-params";

/**
 * `/builds`: without `tree`/`branch` in the URL, every tree and branch (newest build of each);
 * with them, that branch's builds as a timeline (newest first) with per-lab pass/fail counts,
 * infrastructure failures, regressions and fixes. `cursor` in the URL pages to older builds.
 */
export function BuildsHome() {
  const { get } = useUrlParams();
  const tree = get("tree");
  const branch = get("branch");
  return tree && branch ? <BranchTimeline tree={tree} branch={branch} cursor={get("cursor")} /> : <TreeList />;
}

function TreeList() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.builds.trees.queryOptions(), refetchInterval: 30_000 });
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Builds</h1>
          <p className="subtitle">
            Kernel trees and branches the labs have tested, from the jobs&apos; metadata (kernel.tree, git.branch, git.commit).
          </p>
        </div>
      </div>
      {q.isPending && <Loading what="trees" />}
      {q.error && <ErrorBox title="Could not load the trees" error={q.error} hint="Reload the page." />}
      {q.data && q.data.results.length === 0 && (
        <Empty>
          No builds yet. A job appears here once its metadata names a tree, a branch and a commit (see the README, &quot;Builds, regressions
          and test history&quot;).
        </Empty>
      )}
      {q.data && q.data.results.length > 0 && (
        <div className="table-wrap">
          <table className="grid" data-testid="trees">
            <thead>
              <tr>
                <th>Tree</th>
                <th>Branch</th>
                <th>Builds</th>
                <th>Newest build</th>
                <th>First seen</th>
              </tr>
            </thead>
            <tbody>
              {q.data.results.map((r) => (
                <tr key={`${r.tree}/${r.branch}`}>
                  <td>{r.tree}</td>
                  <td>
                    <Link href={branchHref(r.tree, r.branch)}>{r.branch}</Link>
                  </td>
                  <td>{r.builds}</td>
                  <td>
                    <Link href={buildHref(r.tree, r.branch, r.latest.commit)}>
                      {r.latest.describe ?? <ShortCommit commit={r.latest.commit} />}
                    </Link>
                  </td>
                  <td>
                    <Time iso={r.latest.first_seen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function BranchTimeline({ tree, branch, cursor }: { tree: string; branch: string; cursor?: string }) {
  const trpc = useTRPC();
  const { set } = useUrlParams();
  const q = useQuery({
    ...trpc.builds.list.queryOptions({ tree, branch, cursor, limit: 30 }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const labs = [...new Set((q.data?.results ?? []).flatMap((b) => b.labs.map((l) => l.lab)))].sort();
  return (
    <>
      <Crumbs />
      <div className="page-head">
        <div>
          <h1>
            {tree}/{branch}
          </h1>
          <p className="subtitle">
            Builds newest first. Per lab: pass/fail test cases, infrastructure failures (never regressions), regressions and fixes.
          </p>
        </div>
        <Link className="btn btn-link" href={`/builds/regressions?tree=${encodeURIComponent(tree)}&branch=${encodeURIComponent(branch)}`}>
          All regressions of this branch
        </Link>
      </div>
      {q.isPending && <Loading what="builds" />}
      {q.error && (
        <ErrorBox
          title="Could not load the builds"
          error={q.error}
          hint="Check the tree and branch in the address bar, or go back to the list of trees."
        />
      )}
      {q.data && q.data.results.length === 0 && (
        <Empty>
          No builds on {tree}/{branch}. <Link href="/builds">See every tree</Link>
        </Empty>
      )}
      {q.data && q.data.results.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="grid" data-testid="build-timeline">
              <thead>
                <tr>
                  <th>Build</th>
                  <th>First seen</th>
                  <th>Regressions / fixes</th>
                  {labs.map((l) => (
                    <th key={l}>{l}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {q.data.results.map((b) => (
                  <tr key={b.commit} data-testid="build-row">
                    <td>
                      <Link href={buildHref(tree, branch, b.commit)}>{b.describe ?? <ShortCommit commit={b.commit} />}</Link>
                      {b.kernel_version && <div className="hint">{b.kernel_version}</div>}
                    </td>
                    <td className="nowrap">
                      <Time iso={b.first_seen} />
                    </td>
                    <td>
                      <span style={{ color: b.regressions ? "var(--bad)" : undefined }}>
                        {b.regressions} regression{b.regressions === 1 ? "" : "s"}
                      </span>
                      {" · "}
                      <span style={{ color: b.fixes ? "var(--ok)" : undefined }}>
                        {b.fixes} fix{b.fixes === 1 ? "" : "es"}
                      </span>
                    </td>
                    {labs.map((name) => {
                      const l = b.labs.find((x) => x.lab === name);
                      if (!l)
                        return (
                          <td key={name} className="hint">
                            —
                          </td>
                        );
                      return (
                        <td key={name} className="mono" style={{ fontSize: 12 }}>
                          <span style={{ color: "var(--ok)" }}>{l.pass}</span>/<span style={{ color: "var(--bad)" }}>{l.fail}</span>
                          {l.regressions > 0 && <span style={{ color: "var(--bad)" }}> ▼{l.regressions}</span>}
                          {l.fixes > 0 && <span style={{ color: "var(--ok)" }}> ▲{l.fixes}</span>}
                          {l.infrastructure_failures > 0 && (
                            <div className="hint" title="Incomplete or Infrastructure-error jobs: counted against the lab">
                              {l.infrastructure_failures} infra failure{l.infrastructure_failures > 1 ? "s" : ""}
                            </div>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <span className="hint">Cells: pass/fail test cases, ▼ regressions, ▲ fixes seen by the lab.</span>
            <span>
              {cursor && (
                <button type="button" className="btn" onClick={() => set({ cursor: undefined })}>
                  Newest builds
                </button>
              )}{" "}
              {q.data.next_cursor && (
                <button type="button" className="btn" onClick={() => set({ cursor: q.data.next_cursor ?? undefined })}>
                  Older builds →
                </button>
              )}
            </span>
          </div>
        </>
      )}
    </>
  );
}
