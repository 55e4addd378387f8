import type { TLogLine } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TLogLineRecord } from "../dto.ts";

/** Most lines one read returns. */
export const MAX_LOG_READ_LINES = 50_000;

/**
 * Stored log lines `[start, end)` of a job in index order (LAVA's `jobs/<id>/logs/?start=&end=`; end
 * exclusive, absent = to the end), at most {@link MAX_LOG_READ_LINES}. No visibility check: callers
 * find the job through findVisibleJob first.
 */
export async function readLogLines(db: InstanceDb | InstanceTx, jobId: number, start = 0, end?: number): Promise<TLogLineRecord[]> {
  const upper = Math.min(end ?? Number.MAX_SAFE_INTEGER, start + MAX_LOG_READ_LINES);
  const rows = await db.logLine.findMany({ where: { jobId, index: { gte: start, lt: upper } }, orderBy: { index: "asc" } });
  return rows.map((r) => ({ line: r.index, dt: r.dt, lvl: r.lvl as TLogLine["lvl"], msg: r.msg as TLogLine["msg"] }));
}

/** Every stored log line of a job in index order, unbounded (the notify `log` dataset). */
export async function readAllLogLines(db: InstanceDb | InstanceTx, jobId: number): Promise<TLogLineRecord[]> {
  const rows = await db.logLine.findMany({ where: { jobId }, orderBy: { index: "asc" } });
  return rows.map((r) => ({ line: r.index, dt: r.dt, lvl: r.lvl as TLogLine["lvl"], msg: r.msg as TLogLine["msg"] }));
}
