import type { TLogLine } from "@magma/protocol";
import { jobLogProgress, readLogLines, type InstanceDb, type TInstanceViewer } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { getVisibleJob } from "../jobs/get-job.ts";
import { SSE_KEEPALIVE_MS, waitForWake, type SseSink } from "../streams.ts";

/** Most lines the stream reads and sends in one batch. */
const STREAM_CHUNK = 1000;

/**
 * Stored log lines `[start, end)` of a job the caller may see (LAVA's `jobs/<id>/logs/?start=&end=`;
 * end exclusive, absent = to the end; at most 50 000 lines per call).
 * @throws AppError NOT_FOUND `Job N not found` (unknown or invisible job)
 */
export async function readJobLog(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  start: number,
  end?: number,
): Promise<TLogLine[]> {
  await getVisibleJob(db, jobId, user);
  return readLogLines(db, jobId, start, end);
}

/**
 * XML-RPC `scheduler.jobs.logs`: `finished` and lines `[start, end)` of a job the caller may see
 * (`end` null = to the end; `end <= start` = no lines). The state is read BEFORE the lines: a job
 * that finishes in between is reported running once more, so a follower (lavacli polls) asks again
 * and never misses the last lines.
 * @throws AppError NOT_FOUND (unknown or invisible job; see jobs/get-job.ts `JobNotFound`)
 */
export async function readJobLogChunk(
  db: InstanceDb,
  user: TInstanceViewer | null,
  jobId: number,
  start: number,
  end: number | null,
): Promise<{ finished: boolean; lines: TLogLine[] }> {
  const job = await getVisibleJob(db, jobId, user);
  const finished = job.state === "Finished";
  const lines = end !== null && end <= start ? [] : await readLogLines(db, jobId, start, end ?? undefined);
  return { finished, lines };
}

/**
 * Opens the live log of a job the caller may see (`jobs/<id>/logs/stream/`). The visibility check
 * happens now (so a 404 can still be answered); the returned function then streams:
 * `event: line` `id: <line>` `data: {line,dt,lvl,msg}` for every stored line from `from` on, woken by
 * ingestion (notifier.onJob, no polling delay), `: keepalive` after {@link SSE_KEEPALIVE_MS} idle,
 * and `event: end` `data: {line_count}` once the job is Finished and every line was sent; it
 * returns then, or when `closed` aborts, or when the job disappears.
 * @param from first line to send (`start`, or the line after `Last-Event-ID`)
 * @throws AppError NOT_FOUND (unknown or invisible job), before anything is streamed
 */
export async function openJobLogStream(
  ctx: InstanceContext,
  user: TInstanceViewer | null,
  jobId: number,
  from: number,
): Promise<(sink: SseSink, closed: AbortSignal) => Promise<void>> {
  await getVisibleJob(ctx.db, jobId, user);
  return async (sink, closed) => {
    let next = from;
    let changed = true;
    let wake: (() => void) | null = null;
    const unsubscribe = ctx.notifier.onJob(jobId, () => {
      changed = true;
      wake?.();
    });
    try {
      while (!closed.aborted) {
        changed = false;
        const job = await jobLogProgress(ctx.db, jobId);
        if (!job) break;
        while (next < job.logLineCount && !closed.aborted) {
          const lines = await readLogLines(ctx.db, jobId, next, Math.min(job.logLineCount, next + STREAM_CHUNK));
          if (!lines.length) break;
          sink.send(lines.map((l) => ({ event: "line", id: l.line, data: JSON.stringify(l) })));
          next = lines[lines.length - 1]!.line + 1;
        }
        if (job.state === "Finished" && next >= job.logLineCount) {
          sink.send([{ event: "end", data: JSON.stringify({ line_count: job.logLineCount }) }]);
          break;
        }
        if (changed) continue;
        const r = await waitForWake(SSE_KEEPALIVE_MS, closed, (w) => (wake = w));
        if (r === "idle" && !closed.aborted) sink.comment("keepalive");
      }
    } finally {
      unsubscribe();
    }
  };
}
