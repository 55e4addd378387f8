"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { Empty, ErrorBox, Loading } from "../status";
import { Crumbs, ShortCommit, StatusBadge, buildHref, testHref } from "./common";
import { useUrlParams } from "../url-params";

/** `/builds/compare?tree=&branch=&from=&to=`: tests whose status differs between two builds, per lab and device type. */
export function BuildComparePage() {
  const trpc = useTRPC();
  const { get } = useUrlParams();
  const tree = get("tree") ?? "";
  const branch = get("branch") ?? "";
  const from = get("from") ?? "";
  const to = get("to") ?? "";
  const q = useQuery({ ...trpc.builds.compare.queryOptions({ tree, branch, from, to }), enabled: !!(tree && branch && from && to) });
  return (
    <>
      <Crumbs tree={tree} branch={branch}>
        compare
      </Crumbs>
      <div className="page-head">
        <div>
          <h1>Compare builds</h1>
          <p className="subtitle">
            <Link href={buildHref(tree, branch, from)}>
              <ShortCommit commit={from} />
            </Link>
            {" → "}
            <Link href={buildHref(tree, branch, to)}>
              <ShortCommit commit={to} />
            </Link>{" "}
            on {tree}/{branch}: tests whose status differs, per lab and device type.
          </p>
        </div>
      </div>
      {!(tree && branch && from && to) && (
        <ErrorBox
          title="Two builds are needed"
          error={{ message: "tree, branch, from and to must be in the address" }}
          hint={<Link href="/builds">Pick a branch</Link>}
        />
      )}
      {q.isPending && tree && branch && from && to && <Loading what="comparison" />}
      {q.error && <ErrorBox title="Could not compare" error={q.error} hint="Pick the builds again from a build page." />}
      {q.data && q.data.results.length === 0 && <Empty>No test changed status between these builds.</Empty>}
      {q.data && q.data.results.length > 0 && (
        <div className="table-wrap">
          <table className="grid" data-testid="compare">
            <thead>
              <tr>
                <th>Test</th>
                <th>Lab</th>
                <th>Device type</th>
                <th>From</th>
                <th>To</th>
              </tr>
            </thead>
            <tbody>
              {q.data.results.map((r) => (
                <tr key={`${r.test}/${r.lab}/${r.device_type}`}>
                  <td className="mono">
                    <Link href={testHref(tree, branch, r.test, r.device_type)}>{r.test}</Link>
                  </td>
                  <td>{r.lab}</td>
                  <td>{r.device_type}</td>
                  <td>
                    <StatusBadge status={r.from_status} />
                  </td>
                  <td>
                    <StatusBadge status={r.to_status} />
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
