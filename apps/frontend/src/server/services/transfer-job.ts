import {
  countTransferAttempt,
  findInstanceByName,
  findJobTransfer,
  finishJobTransfer,
  recordTransferError,
  storeTransferCases,
  storeTransferLog,
  type FrontendDb,
  type TInstanceRecord,
  type TJobTransfer,
} from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { toCaseInput } from "./ingest-callback.ts";
import { describeFetchError, fetchJobCasesPage, fetchJobLogRange, reachableLab } from "./instance-client.ts";

/** Test cases asked for per page (the instance allows up to 5 000). */
export const TRANSFER_CASES_PAGE = 1000;
/** Log lines asked for per range (the instance answers at most 50 000). */
export const TRANSFER_LOG_LINES = 10_000;

export interface RunJobTransferOptions {
  db: FrontendDb;
  /** the lab's name */
  lab: string;
  /** the job's id on its lab */
  remoteId: number;
  log: Logger;
  /** deadline of each HTTP request to the lab, ms */
  timeoutMs: number;
  casesPageSize?: number;
  logChunkLines?: number;
  /** stops between chunks (shutdown); what was stored stays stored */
  signal?: AbortSignal;
  /** called once the run knows where it starts (the stored cursors) */
  onStart?: (from: { casesAfterId: number; logNextLine: number }) => void;
  /** called after each stored chunk (tests, the CLI's progress) */
  onProgress?: (t: { kind: "cases" | "log"; casesStored: number; linesStored: number }) => void;
}

export interface TTransferResult {
  lab: string;
  remoteId: number;
  /** true once every case and log line is stored (the transfer is closed) */
  done: boolean;
  /** cases / lines stored by THIS run (a resumed run does not count what an earlier one stored) */
  casesInserted: number;
  linesStored: number;
  /** where this run started: the case cursor and the first log line */
  resumedFrom: { casesAfterId: number; logNextLine: number };
}

/**
 * Pulls one huge job's results and log from its lab in bounded chunks (issue 13 item 6): test cases
 * by keyset pages (`magma/jobs/<id>/cases/?after_id`), then the log by line ranges
 * (`jobs/<id>/logs/?start=&end=`). Each chunk is stored in the transaction that moves the job's
 * cursor (job_transfer), so a run stopped anywhere (crash, restart, lab down) is continued by the
 * next run from that cursor, and every case and log line is stored exactly once (a chunk whose
 * cursor moved meanwhile is dropped; cases are also unique by remote case id). At most one page of
 * cases or one range of lines is held in memory. Once both are complete, the job's build statuses
 * are recomputed and the transfer is closed (finishJobTransfer).
 * Log lines are stored as one JSON object per line (`{line, dt, lvl, msg}`), grouped in chunks.
 * @throws AppError NOT_FOUND (lab or transfer unknown); the lab's HTTP/network errors after they
 *   were recorded on the transfer (`last_error`), so the caller retries later
 */
export async function runJobTransfer({
  db,
  lab,
  remoteId,
  log,
  timeoutMs,
  casesPageSize = TRANSFER_CASES_PAGE,
  logChunkLines = TRANSFER_LOG_LINES,
  signal,
  onStart,
  onProgress,
}: RunJobTransferOptions): Promise<TTransferResult> {
  const stored = await findInstanceByName(db, lab);
  if (!stored) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured` });
  const instance = reachableLab(stored);
  if (!instance)
    throw new AppError("INVALID_REQUEST", { message: `Lab "${lab}" is outbound-only: the frontend cannot pull from it (no URL)` });
  let t = await findJobTransfer(db, instance.id, remoteId);
  if (!t) throw new AppError("NOT_FOUND", { message: `No transfer for job ${remoteId} of lab "${lab}"` });
  const resumedFrom = { casesAfterId: t.casesAfterId, logNextLine: t.logNextLine };
  const out: TTransferResult = { lab, remoteId, done: t.doneAt !== null, casesInserted: 0, linesStored: 0, resumedFrom };
  if (t.doneAt) return out;
  await countTransferAttempt(db, t.jobId);
  onStart?.(resumedFrom);
  const jlog = log.child({ lab, remoteJobId: remoteId });
  jlog.info({ ...resumedFrom, casesStored: t.casesStored, linesStored: t.linesStored }, "job transfer started");
  try {
    while (!t.casesDone && !signal?.aborted) {
      const page = await fetchJobCasesPage(instance, remoteId, t.casesAfterId, casesPageSize, timeoutMs);
      const cases = [];
      for (const item of page.results) {
        const c = toCaseInput(item, "unknown");
        if (typeof c === "string") jlog.warn({ item: JSON.stringify(item).slice(0, 200), problems: c }, "skipped an unparsable test case");
        else cases.push(c);
      }
      const r = await storeTransferCases(db, { jobId: t.jobId, afterId: t.casesAfterId, nextAfterId: page.next_after_id, cases });
      out.casesInserted += r.inserted;
      t = await reload(db, instance, remoteId);
      onProgress?.({ kind: "cases", casesStored: t.casesStored, linesStored: t.linesStored });
    }
    while (!t.logDone && !signal?.aborted) {
      const start = t.logNextLine;
      const end = start + logChunkLines;
      const lines = await fetchJobLogRange(instance, remoteId, start, end, timeoutMs);
      const text = lines.map((l) => JSON.stringify(l)).join("\n");
      // the log is done once a range reaches the total the lab announced for the Finished job
      const done = end >= t.logTotal;
      const r = await storeTransferLog(db, { jobId: t.jobId, firstLine: start, nextLine: end, lineCount: lines.length, text, done });
      if (r.applied) out.linesStored += lines.length;
      t = await reload(db, instance, remoteId);
      onProgress?.({ kind: "log", casesStored: t.casesStored, linesStored: t.linesStored });
    }
  } catch (e) {
    const message = describeFetchError(e, timeoutMs);
    await recordTransferError(db, t.jobId, message);
    jlog.warn(
      { err: message, casesAfterId: t.casesAfterId, logNextLine: t.logNextLine },
      "job transfer stopped; it resumes from its cursor",
    );
    throw e;
  }
  if (t.casesDone && t.logDone) {
    out.done = await finishJobTransfer(db, t.jobId);
    jlog.info({ casesStored: t.casesStored, linesStored: t.linesStored, casesInserted: out.casesInserted }, "job transfer complete");
  }
  return out;
}

async function reload(db: FrontendDb, instance: TInstanceRecord, remoteId: number): Promise<TJobTransfer> {
  const t = await findJobTransfer(db, instance.id, remoteId);
  if (!t) throw new AppError("NOT_FOUND", { message: `The transfer of job ${remoteId} of lab "${instance.name}" vanished` });
  return t;
}
