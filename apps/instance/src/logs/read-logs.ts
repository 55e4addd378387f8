import type { TLogLine } from "@magma/protocol";
import type { InstanceDb } from "@magma/db/instance";

/** Most lines one read returns. */
export const MAX_LOG_READ_LINES = 50_000;

/**
 * Reads stored log lines `[start, end)` of a job (LAVA's `jobs/<id>/logs/?start=&end=`; end
 * exclusive, absent = to the end), at most {@link MAX_LOG_READ_LINES}.
 */
export async function readLogs(db: InstanceDb, jobId: number, start = 0, end?: number): Promise<TLogLine[]> {
  const upper = Math.min(end ?? Number.MAX_SAFE_INTEGER, start + MAX_LOG_READ_LINES);
  const rows = await db.logLine.findMany({
    where: { jobId, index: { gte: start, lt: upper } },
    orderBy: { index: "asc" },
  });
  return rows.map((r) => ({ line: r.index, dt: r.dt, lvl: r.lvl as TLogLine["lvl"], msg: r.msg as TLogLine["msg"] }));
}
