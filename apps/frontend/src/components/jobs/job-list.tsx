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
import { HealthBadge, healthTone, StateBadge, stateTone } from "../badges";
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
      <Link href={`/jobs/${encodeURIComponent(c.row.original.lab)}/${c.row.original.id}`} className="job-name">
        {c.getValue()}
        {c.row.original.healthCheck && (
          <span className="chip" style={{ marginLeft: 6 }}>
            health check
          </span>
        )}
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
      <span className="chips meta-chips">
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
    setDraft({
      lab: filters.lab ?? "",
      deviceType: filters.deviceType ?? "",
      jobName: filters.jobName ?? "",
      metadata: metadataText(filters.metadata),
    });
  }, [filters.lab, filters.deviceType, filters.jobName, filters.metadata]);

  const labs = useQuery({ ...trpc.labs.overview.queryOptions(), staleTime: 60_000 });
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions({ ...filters, cursor: filters.cursor ?? null, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: filters.cursor ? false : 10_000,
  });
  const { cursor: _cursor, ...countFilters } = filters;
  const counts = useQuery({ ...trpc.jobs.counts.queryOptions(countFilters), placeholderData: keepPreviousData, refetchInterval: 10_000 });
  const summary = useMemo(() => {
    // unfinished jobs by state; finished ones by health (what a lab admin scans for)
    const m = new Map<string, { label: string; tone: string; jobs: number; state: string; health?: string }>();
    for (const c of counts.data?.counts ?? []) {
      const finished = c.state === "Finished";
      const k = finished ? `h:${c.health}` : `s:${c.state}`;
      const e =
        m.get(k) ??
        (finished
          ? { label: c.health, tone: healthTone(c.health), jobs: 0, state: c.state, health: c.health }
          : { label: c.state, tone: stateTone(c.state), jobs: 0, state: c.state });
      e.jobs += c.jobs;
      m.set(k, e);
    }
    return [...m.values()];
  }, [counts.data]);
  const down = (labs.data ?? []).filter((l) => !l.reachable && (!filters.lab || l.name === filters.lab));
  const page = history.length + (filters.cursor ? 1 : 0) + 1;
  const table = useReactTable({ data: jobs.data?.results ?? [], columns, getCoreRowModel: getCoreRowModel() });

  const go = (f: TJobFilters, keepHistory = false) => {
    if (!keepHistory) setHistory([]);
    router.push(`${pathname}${filtersToQuery(f)}`);
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    go({
      ...filters,
      cursor: undefined,
      lab: draft.lab || undefined,
      deviceType: draft.deviceType || undefined,
      jobName: draft.jobName || undefined,
      metadata: parseMetadataText(draft.metadata),
    });
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
          <select
            value={filters.state ?? ""}
            onChange={(e) => go({ ...filters, cursor: undefined, state: (e.target.value || undefined) as TJobFilters["state"] })}
            name="state"
          >
            <option value="">any state</option>
            {JOB_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Health
          <select
            value={filters.health ?? ""}
            onChange={(e) => go({ ...filters, cursor: undefined, health: (e.target.value || undefined) as TJobFilters["health"] })}
            name="health"
          >
            <option value="">any health</option>
            {JOB_HEALTHS.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Device type
          <input
            value={draft.deviceType}
            onChange={(e) => setDraft({ ...draft, deviceType: e.target.value })}
            placeholder="qemu"
            name="device_type"
          />
        </label>
        <label className="field">
          Job name contains
          <input
            value={draft.jobName}
            onChange={(e) => setDraft({ ...draft, jobName: e.target.value })}
            placeholder="smoke"
            name="job_name"
          />
        </label>
        <label className="field">
          Metadata (key=value, …)
          <input
            value={draft.metadata}
            onChange={(e) => setDraft({ ...draft, metadata: e.target.value })}
            placeholder="kernel.branch=master"
            name="metadata"
            style={{ minWidth: 220 }}
          />
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

      {down.map((l) => (
        <div key={l.name} className="warn-box" role="status">
          <strong>Lab {l.name} is unreachable</strong> ({l.error ?? "no answer"}). Its jobs below are as of its last callback and may be out
          of date.
        </div>
      ))}
      {counts.data && counts.data.total > 0 && (
        <div className="summary" aria-label="Jobs by state">
          <span>
            {counts.data.total} job{counts.data.total === 1 ? "" : "s"}
            {active ? " match" : ""}:
          </span>
          {summary.map((e) => {
            const selected = filters.state === e.state && (e.health ? filters.health === e.health : !filters.health);
            return (
              <Link
                key={e.label}
                className={`badge badge-${e.tone}${selected ? " selected" : ""}`}
                href={`${pathname}${filtersToQuery({ ...filters, cursor: undefined, state: e.state as TJobFilters["state"], health: e.health as TJobFilters["health"] })}`}
                title={e.health ? `Finished jobs with health ${e.health}` : `Jobs in state ${e.state}`}
              >
                {e.label} {e.jobs}
              </Link>
            );
          })}
        </div>
      )}
      {jobs.isPending && <Loading what="jobs" />}
      {jobs.error && (
        <div className="error-box" role="alert">
          <strong>Could not load jobs</strong>
          <div>{jobs.error.message}</div>
          <div style={{ marginTop: 8, display: "flex", gap: 8 }}>
            <button className="btn" type="button" onClick={() => void jobs.refetch()}>
              Retry
            </button>
            {(active || filters.cursor) && (
              <Link className="btn" href={pathname} onClick={() => setHistory([])}>
                Reset filters
              </Link>
            )}
          </div>
        </div>
      )}
      {jobs.data && jobs.data.results.length === 0 && (
        <Empty>
          {active ? (
            <>
              No jobs match these filters.{" "}
              <Link href={pathname} onClick={() => setHistory([])}>
                Reset filters
              </Link>
            </>
          ) : filters.cursor ? (
            <>
              No older jobs. <Link href={pathname}>Back to the newest</Link>
            </>
          ) : (
            <>
              No jobs yet. Jobs appear here when a lab sends its first notify callback: <Link href="/submit">submit a job</Link> to see one.
            </>
          )}
        </Empty>
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
      {jobs.data && jobs.data.results.length > 0 && (
        <nav className="pager" aria-label="Pages">
          <span>
            Page {page} · jobs {(page - 1) * PAGE_SIZE + 1}–{(page - 1) * PAGE_SIZE + jobs.data.results.length}
            {counts.data ? ` of ${counts.data.total}` : ""} · newest first
          </span>
          <span className="pager-buttons">
            <button
              className="btn"
              disabled={!filters.cursor}
              onClick={() => go({ ...filters, cursor: undefined })}
              title="First page (newest jobs)"
            >
              ⇤ Newest
            </button>
            <button
              className="btn"
              disabled={!filters.cursor}
              onClick={() => {
                const prev = history[history.length - 1];
                setHistory(history.slice(0, -1));
                go({ ...filters, cursor: prev || undefined }, true);
              }}
            >
              ← Newer
            </button>
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
          </span>
        </nav>
      )}
    </>
  );
}
