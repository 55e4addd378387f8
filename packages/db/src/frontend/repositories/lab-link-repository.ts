import type { TLogLine } from "@magma/protocol";
import type { FrontendDb } from "../client.ts";

/**
 * What an outbound-only lab's link carries besides submissions (issue 13 item 2): job logs pushed
 * by line range into `federated_log_chunk` (resume point `federated_job.link_log_lines`), and
 * cancels waiting for the lab's next poll (`job_cancel_request`).
 */

/** A job's pushed-log progress as the link answers it. */
export interface TLinkLogState {
  /** the lab's job id */
  jobId: number;
  /** false: the frontend has no such job yet (its first state callback has not arrived) */
  known: boolean;
  /** first line not stored yet */
  nextLine: number;
  done: boolean;
}

/**
 * Stores pushed lines of job `remoteId` of lab `instanceId` exactly once, in one transaction holding
 * the job row's lock (as callback ingest takes it): lines before the stored resume point are skipped,
 * the rest (when they start at or before it) become one `federated_log_chunk` row starting at the
 * resume point, which moves past them; a chunk starting after it stores nothing (the lab rewinds to
 * the answered `nextLine`). `end` (the log's total line count, sent once the job is Finished) marks
 * the log done when every line up to it is stored. A done log takes no more lines.
 * @param lines consecutive lines, `lines[i].line === firstLine + i`
 * @returns the job's progress after the call (`known` false, nothing stored, for an unknown job)
 */
export async function storeLinkLogChunk(
  db: FrontendDb,
  input: { instanceId: number; remoteId: number; firstLine: number; lines: TLogLine[]; end?: number },
): Promise<TLinkLogState> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: number; link_log_lines: number; link_log_done: boolean }[]>`
      SELECT id, link_log_lines, link_log_done FROM federated_job
      WHERE instance_id = ${input.instanceId} AND remote_id = ${input.remoteId} FOR UPDATE`;
    const r = rows[0];
    if (!r) return { jobId: input.remoteId, known: false, nextLine: 0, done: false };
    if (r.link_log_done) return { jobId: input.remoteId, known: true, nextLine: r.link_log_lines, done: true };
    let next = r.link_log_lines;
    if (input.firstLine <= next) {
      const fresh = input.lines.slice(next - input.firstLine);
      if (fresh.length) {
        await tx.$executeRaw`
          INSERT INTO federated_log_chunk (job_id, first_line, line_count, text)
          VALUES (${r.id}, ${next}, ${fresh.length}, ${fresh.map((l) => JSON.stringify(l)).join("\n")}) ON CONFLICT DO NOTHING`;
        next += fresh.length;
      }
    }
    const done = input.end !== undefined && next >= input.end;
    if (next !== r.link_log_lines || done)
      await tx.$executeRaw`UPDATE federated_job SET link_log_lines = ${next}, link_log_done = ${done} WHERE id = ${r.id}`;
    return { jobId: input.remoteId, known: true, nextLine: next, done };
  });
}

/** Pushed-log progress of job `remoteId` of lab `instanceId`, or null when the frontend does not know the job. */
export async function linkLogProgress(
  db: FrontendDb,
  instanceId: number,
  remoteId: number,
): Promise<(TLinkLogState & { id: number; state: string }) | null> {
  const j = await db.federatedJob.findUnique({
    where: { instance_id_remote_id: { instance_id: instanceId, remote_id: remoteId } },
    select: { id: true, state: true, link_log_lines: true, link_log_done: true },
  });
  return j ? { id: j.id, state: j.state, jobId: remoteId, known: true, nextLine: j.link_log_lines, done: j.link_log_done } : null;
}

/**
 * Jobs of lab `instanceId` whose pushed log is not complete yet, oldest first (`limit` of them): the
 * poll lists them so a restarted lab resumes their logs from `nextLine`.
 */
export async function listLinkLogsWanted(
  db: FrontendDb,
  instanceId: number,
  limit: number,
): Promise<{ jobId: number; nextLine: number }[]> {
  const rows = await db.federatedJob.findMany({
    where: { instance_id: instanceId, link_log_done: false },
    orderBy: { remote_id: "asc" },
    take: limit,
    select: { remote_id: true, link_log_lines: true },
  });
  return rows.map((r) => ({ jobId: r.remote_id, nextLine: r.link_log_lines }));
}

/**
 * Stored log lines `[start, start + limit)` of federated job `jobId` (federated_job.id), in order,
 * read from `federated_log_chunk` (pushed over a lab link, one JSON log line per text line).
 * Unreadable lines are skipped.
 */
export async function readStoredLogLines(db: FrontendDb, jobId: number, start: number, limit: number): Promise<TLogLine[]> {
  const rows = await db.$queryRaw<{ first_line: number; text: string }[]>`
    SELECT first_line, text FROM federated_log_chunk
    WHERE job_id = ${jobId} AND first_line < ${start + limit}
      AND first_line >= COALESCE((SELECT max(first_line) FROM federated_log_chunk WHERE job_id = ${jobId} AND first_line <= ${start}), 0)
    ORDER BY first_line`;
  const out: TLogLine[] = [];
  for (const r of rows) {
    for (const [i, text] of r.text.split("\n").entries()) {
      const n = r.first_line + i;
      if (n < start || n >= start + limit) continue;
      try {
        const l = JSON.parse(text) as TLogLine;
        out.push({ ...l, line: n });
      } catch {
        // a line that cannot be read is left out; its neighbours keep their numbers
      }
    }
  }
  return out;
}

/**
 * Queues a cancel of job `remoteId` for outbound lab `instanceId` (its next poll receives it). A cancel
 * already queued stays as it is; an acknowledged one is re-armed (the job is still active).
 */
export async function queueJobCancel(db: FrontendDb, input: { instanceId: number; remoteId: number; requestedBy: string }): Promise<void> {
  await db.jobCancelRequest.upsert({
    where: { instance_id_remote_job_id: { instance_id: input.instanceId, remote_job_id: input.remoteId } },
    create: { instance_id: input.instanceId, remote_job_id: input.remoteId, requested_by: input.requestedBy },
    update: { requested_by: input.requestedBy, acked_at: null, result: null },
  });
}

/** Cancels not acknowledged by lab `instanceId` yet, oldest first. */
export async function listPendingCancels(
  db: FrontendDb,
  instanceId: number,
  limit: number,
): Promise<{ cancelId: string; jobId: number; requestedBy: string }[]> {
  const rows = await db.jobCancelRequest.findMany({
    where: { instance_id: instanceId, acked_at: null },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map((r) => ({ cancelId: String(r.id), jobId: r.remote_job_id, requestedBy: r.requested_by }));
}

/**
 * Records lab `instanceId`'s acknowledgement of cancel `cancelId` with its `result`.
 * @returns false when the cancel is not one of this lab's (nothing changed)
 */
export async function ackJobCancel(db: FrontendDb, instanceId: number, cancelId: string, result: string): Promise<boolean> {
  if (!/^\d{1,12}$/.test(cancelId)) return false;
  const r = await db.jobCancelRequest.updateMany({
    where: { id: Number(cancelId), instance_id: instanceId },
    data: { acked_at: new Date(), result: result.slice(0, 2000) },
  });
  return r.count > 0;
}

/** The fields a cancel is decided on: state, submitter, and whether `userId` submitted it through the frontend. */
export async function findJobForCancel(
  db: FrontendDb,
  instanceId: number,
  remoteId: number,
  userId: number,
): Promise<{ state: string; submitter: string; submittedByUser: boolean } | null> {
  const j = await db.federatedJob.findUnique({
    where: { instance_id_remote_id: { instance_id: instanceId, remote_id: remoteId } },
    select: { state: true, submitter: true },
  });
  if (!j) return null;
  const own = await db.submissionTarget.count({
    where: { instance_id: instanceId, remote_job_id: remoteId, submission: { user_id: userId } },
  });
  return { state: j.state, submitter: j.submitter, submittedByUser: own > 0 };
}
