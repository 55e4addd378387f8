"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { JOB_HEALTHS, JOB_STATES } from "@magma/protocol";
import { useTRPC } from "~/trpc/react";
import type { AppRouter } from "~/server/trpc/root";
import type { inferRouterOutputs } from "@trpc/server";
import { HealthBadge, StateBadge } from "../badges";
import { Empty, ErrorBox, Loading } from "../status";
import { formatDuration, formatTime } from "../time";
import { filtersFromParams, filtersToQuery, metadataText, parseMetadataText, type TJobFilters } from "./job-filters";

type Job = inferRouterOutputs<AppRouter>["jobs"]["list"]["results"][number];
const col = createColumnHelper<Job>();
const PAGE_SIZE = 50;

const columns = [
  col.accessor("id", {
    header: "Job",
    cell: (c) => (
      <Link href={`/jobs/${encodeURIComponent(c.row.original.lab)}/${c.getValue()}`} className="mono nowrap">
        {c.row.original.lab}#{c.getValue()}
      </Link>
    ),
  }),
  col.accessor("name", {
    header: "Name",
    cell: (c) => (
      <Link href={`/jobs/${encodeURIComponent(c.row.original.lab)}/${c.row.original.id}`}>
        {c.getValue()}
        {c.row.original.healthCheck && <span className="chip" style={{ marginLeft: 6 }}>health check</span>}
      </Link>
    ),
  }),
  col.accessor("deviceType", { header: "Device type" }),
  col.accessor("actualDevice", { header: "Device", cell: (c) => <span className="mono nowrap">{c.getValue() ?? "—"}</span> }),
  col.accessor("state", { header: "State", cell: (c) => <StateBadge state={c.getValue()} /> }),
  col.accessor("health", { header: "Health", cell: (c) => <HealthBadge health={c.getValue()} /> }),
  col.accessor("metadata", {
    header: "Metadata",
    cell: (c) => (
      <span className="chips">
        {Object.entries(c.getValue())
          .slice(0, 4)
          .map(([k, v]) => (
            <span key={k} className="chip" title={`${k}=${v}`}>
              {k.replace(/^kernel\./, "")}: <b>{v.length > 14 ? v.slice(0, 12) + "…" : v}</b>
            </span>
          ))}
      </span>
    ),
  }),
  col.accessor("submitter", { header: "Submitter" }),
  col.accessor("submitTime", { header: "Submitted", cell: (c) => <span className="nowrap">{formatTime(c.getValue())}</span> }),
  col.display({ id: "duration", header: "Duration", cell: (c) => formatDuration(c.row.original.startTime, c.row.original.endTime) }),
];

/** Federated job list: filters live in the URL; keyset pagination (newest first). */
export function JobList() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = useMemo(() => filtersFromParams(new URLSearchParams(params.toString())), [params]);
  const [history, setHistory] = useState<string[]>([]);
  const [draft, setDraft] = useState({ lab: "", deviceType: "", jobName: "", metadata: "" });
  useEffect(() => {
    setDraft({ lab: filters.lab ?? "", deviceType: filters.deviceType ?? "", jobName: filters.jobName ?? "", metadata: metadataText(filters.metadata) });
  }, [filters.lab, filters.deviceType, filters.jobName, filters.metadata]);

  const labs = useQuery({ ...trpc.labs.overview.queryOptions(), staleTime: 60_000 });
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions({ ...filters, cursor: filters.cursor ?? null, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: filters.cursor ? false : 10_000,
  });
  const table = useReactTable({ data: jobs.data?.results ?? [], columns, getCoreRowModel: getCoreRowModel() });

  const go = (f: TJobFilters, keepHistory = false) => {
    if (!keepHistory) setHistory([]);
    router.push(`${pathname}${filtersToQuery(f)}`);
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    go({ ...filters, cursor: undefined, lab: draft.lab || undefined, deviceType: draft.deviceType || undefined, jobName: draft.jobName || undefined, metadata: parseMetadataText(draft.metadata) });
  };
  const active = Object.entries(filters).filter(([k, v]) => k !== "cursor" && v).length > 0;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Jobs</h1>
          <p className="subtitle">Jobs of every lab, as reported by their notify callbacks. Newest first.</p>
        </div>
      </div>
      <form className="filters" onSubmit={apply} aria-label="Job filters">
        <label className="field">
          Lab
          <select value={draft.lab} onChange={(e) => setDraft({ ...draft, lab: e.target.value })} name="lab">
            <option value="">all labs</option>
            {labs.data?.map((l) => (
              <option key={l.name} value={l.name}>
                {l.name}
              </option>
            ))}
            {filters.lab && !labs.data?.some((l) => l.name === filters.lab) && <option value={filters.lab}>{filters.lab}</option>}
          </select>
        </label>
        <label className="field">
          State
          <select value={filters.state ?? ""} onChange={(e) => go({ ...filters, cursor: undefined, state: (e.target.value || undefined) as TJobFilters["state"] })} name="state">
            <option value="">any state</option>
            {JOB_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Health
          <select value={filters.health ?? ""} onChange={(e) => go({ ...filters, cursor: undefined, health: (e.target.value || undefined) as TJobFilters["health"] })} name="health">
            <option value="">any health</option>
            {JOB_HEALTHS.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Device type
          <input value={draft.deviceType} onChange={(e) => setDraft({ ...draft, deviceType: e.target.value })} placeholder="qemu" name="device_type" />
        </label>
        <label className="field">
          Job name contains
          <input value={draft.jobName} onChange={(e) => setDraft({ ...draft, jobName: e.target.value })} placeholder="smoke" name="job_name" />
        </label>
        <label className="field">
          Metadata (key=value, …)
          <input value={draft.metadata} onChange={(e) => setDraft({ ...draft, metadata: e.target.value })} placeholder="kernel.branch=master" name="metadata" style={{ minWidth: 220 }} />
        </label>
        <button className="btn btn-primary" type="submit">
          Apply
        </button>
        {active && (
          <button className="btn" type="button" onClick={() => go({})}>
            Clear filters
          </button>
        )}
      </form>

      {jobs.isPending && <Loading what="jobs" />}
      {jobs.error && <ErrorBox title="Could not load jobs" error={jobs.error} />}
      {jobs.data && jobs.data.results.length === 0 && (
        <Empty>{active ? "No job matches these filters." : "No jobs yet. Jobs appear here when a lab sends its first notify callback."}</Empty>
      )}
      {jobs.data && jobs.data.results.length > 0 && (
        <div className="table-wrap">
          <table className="grid">
            <thead>
              {table.getHeaderGroups().map((hg) => (
                <tr key={hg.id}>
                  {hg.headers.map((h) => (
                    <th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</th>
                  ))}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((r) => (
                <tr key={`${r.original.lab}-${r.original.id}`} data-testid="job-row" data-lab={r.original.lab} data-job-id={r.original.id}>
                  {r.getVisibleCells().map((c) => (
                    <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.data && (filters.cursor || jobs.data.nextCursor) && (
        <div className="pager">
          {filters.cursor && (
            <button className="btn" onClick={() => go({ ...filters, cursor: undefined })}>
              ⇤ Newest
            </button>
          )}
          {filters.cursor && (
            <button
              className="btn"
              onClick={() => {
                const prev = history[history.length - 1];
                setHistory(history.slice(0, -1));
                go({ ...filters, cursor: prev || undefined }, true);
              }}
            >
              ← Newer
            </button>
          )}
          <button
            className="btn"
            disabled={!jobs.data.nextCursor}
            onClick={() => {
              setHistory([...history, filters.cursor ?? ""]);
              go({ ...filters, cursor: jobs.data.nextCursor ?? undefined }, true);
            }}
          >
            Older →
          </button>
        </div>
      )}
    </>
  );
}
