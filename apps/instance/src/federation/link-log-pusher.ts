import { LAB_LOG_CHUNK_MAX_LINES, type TLabLogChunk, type TLabLogPushResponse, type TLabLogWanted } from "@magma/protocol";
import { readLogLines } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { LinkPusher } from "./link-pusher.ts";

/** How often the pusher looks for new log lines, ms (so lines reach the frontend within ~1 s). */
export const LOG_PUSH_INTERVAL_MS = 500;
/** Largest push body aimed at, bytes of JSON (a chunk is cut short to stay under it). */
const MAX_PUSH_BYTES = 2 * 1024 * 1024;
/** Most chunks per push. */
const MAX_PUSH_CHUNKS = 50;
/** A job the frontend did not know yet is asked about again after this long, ms. */
const UNKNOWN_RETRY_MS = 2000;
/** Finished jobs looked at once after a start (their logs may be incomplete on the frontend), ms back. */
const RECENT_FINISHED_MS = 60 * 60 * 1000;

interface Cursor {
  /** first line the frontend does not have; null: not known yet (ask with an empty chunk) */
  next: number | null;
  /** when an unknown job may be asked about again (epoch ms) */
  retryAt: number;
}

/**
 * Pushes the lab's job logs to the frontend over the outbound link (`POST …/labs/<lab>/logs`), in
 * line ranges of at most {@link LAB_LOG_CHUNK_MAX_LINES} lines, every {@link LOG_PUSH_INTERVAL_MS} ms
 * while lines flow. The frontend owns the resume point of each job: the pusher asks for it with an
 * empty chunk, sends lines from it, and moves it only from the frontend's answer — so a push lost
 * with a dropped connection is sent again, a push that was stored but not answered is skipped line
 * by line by the frontend, and a restarted lab resumes from the frontend's answer (nothing lost or
 * doubled; as the worker's log upload with `{index, lines}` and `line_count`). A Finished job's last
 * push carries `end` (its line count), after which the frontend marks the log complete and the job
 * is dropped here. Jobs looked at: every Scheduled/Running/Canceling job, the jobs the poll lists as
 * still wanted ({@link LinkLogPusher.want}), and, once after a start, jobs finished in the last hour.
 * The loop around {@link LinkLogPusher.pushOnce} (backoff on failure, wake, stop) is {@link LinkPusher}'s.
 */
export class LinkLogPusher extends LinkPusher {
  private readonly cursors = new Map<number, Cursor>();
  private recentChecked = false;

  /**
   * @param post sends one push and returns the frontend's answer; throws on any failure
   */
  constructor(
    ctx: InstanceContext,
    private readonly post: (chunks: TLabLogChunk[]) => Promise<TLabLogPushResponse>,
  ) {
    super(ctx, LOG_PUSH_INTERVAL_MS, "log");
  }

  /** Jobs the frontend still waits for (from a poll answer), with the line to resume from. */
  want(logs: TLabLogWanted[]): void {
    // a cursor this process already follows is newer than the poll's snapshot
    for (const l of logs) {
      const cur = this.cursors.get(l.job_id);
      if (!cur || cur.next === null) this.cursors.set(l.job_id, { next: l.next_line, retryAt: 0 });
    }
    if (logs.length) this.wakeUp();
  }

  /**
   * One push of whatever is due.
   * @returns true when lines remain to be sent at once (a chunk was cut short)
   */
  override async pushOnce(): Promise<boolean> {
    const now = Date.now();
    if (!this.recentChecked) {
      // followed (as "ask the frontend") until the frontend says their log is complete
      const recent = await this.ctx.db.testJob.findMany({
        where: { state: "Finished", endTime: { gt: new Date(now - RECENT_FINISHED_MS) } },
        select: { id: true },
      });
      for (const { id } of recent) if (!this.cursors.has(id)) this.cursors.set(id, { next: null, retryAt: 0 });
      this.recentChecked = true;
    }
    const jobs = await this.ctx.db.testJob.findMany({
      where: { OR: [{ state: { in: ["Scheduled", "Running", "Canceling"] } }, { id: { in: [...this.cursors.keys()] } }] },
      select: { id: true, state: true, logLineCount: true },
      orderBy: { id: "asc" },
    });
    const chunks: TLabLogChunk[] = [];
    let bytes = 0;
    let more = false;
    const seen = new Set(jobs.map((j) => j.id));
    // a wanted job this lab no longer has (every followed job is in `jobs`: the query has no limit):
    // its log ends where the frontend is
    for (const [id, c] of this.cursors)
      if (!seen.has(id) && c.next !== null && chunks.length < MAX_PUSH_CHUNKS)
        chunks.push({ job_id: id, first_line: c.next, lines: [], end: c.next });
    for (const j of jobs) {
      if (chunks.length >= MAX_PUSH_CHUNKS || bytes >= MAX_PUSH_BYTES) {
        more = true;
        break;
      }
      const c = this.cursors.get(j.id);
      const finished = j.state === "Finished";
      if (!c || c.next === null) {
        if (c && c.retryAt > now) continue;
        chunks.push({ job_id: j.id, first_line: 0, lines: [] });
        continue;
      }
      if (j.logLineCount > c.next) {
        const read = await readLogLines(this.ctx.db, j.id, c.next, Math.min(j.logLineCount, c.next + LAB_LOG_CHUNK_MAX_LINES));
        const lines = [];
        for (const l of read) {
          const size = JSON.stringify(l).length + 1;
          if (lines.length && bytes + size > MAX_PUSH_BYTES) break;
          lines.push(l);
          bytes += size;
        }
        const reaches = c.next + lines.length >= j.logLineCount;
        if (!reaches) more = true;
        chunks.push({ job_id: j.id, first_line: c.next, lines, ...(finished && reaches ? { end: j.logLineCount } : {}) });
      } else if (finished) {
        chunks.push({ job_id: j.id, first_line: c.next, lines: [], end: j.logLineCount });
      }
    }
    if (!chunks.length) return false;
    const answer = await this.post(chunks);
    const state = new Map(jobs.map((j) => [j.id, j.state]));
    for (const r of answer.jobs) {
      if (!r.known) this.cursors.set(r.job_id, { next: null, retryAt: Date.now() + UNKNOWN_RETRY_MS });
      else if (r.done && (state.get(r.job_id) ?? "Finished") === "Finished") this.cursors.delete(r.job_id);
      else this.cursors.set(r.job_id, { next: r.next_line, retryAt: 0 });
    }
    return more;
  }
}
