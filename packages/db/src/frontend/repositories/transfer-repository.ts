import type { FrontendDb } from "../client.ts";
import { insertFederatedCases, type TIngestJobInput } from "./federated-job-repository.ts";
import { lockBranch, recomputeForJob } from "./build-ingest.ts";

/**
 * The pull of one huge job's results and log from its lab (issue 13 item 6), as stored in
 * `job_transfer`: cursors that move in the transaction storing each chunk, so a restarted frontend
 * continues where it stopped and nothing is stored twice.
 */
export interface TJobTransfer {
  /** federated_job id */
  jobId: number;
  lab: string;
  remoteId: number;
  casesTotal: number;
  logTotal: number;
  /** remote case id after which the next page starts */
  casesAfterId: number;
  casesDone: boolean;
  /** first log line not yet stored */
  logNextLine: number;
  logDone: boolean;
  casesStored: number;
  linesStored: number;
  doneAt: Date | null;
  attempts: number;
  lastError: string | null;
}

type Row = {
  job_id: number;
  lab: string;
  remote_id: number;
  cases_total: number;
  log_total: number;
  cases_after_id: number;
  cases_done: boolean;
  log_next_line: number;
  log_done: boolean;
  cases_stored: number;
  lines_stored: number;
  done_at: Date | null;
  attempts: number;
  last_error: string | null;
};

const fromRow = (r: Row): TJobTransfer => ({
  jobId: r.job_id,
  lab: r.lab,
  remoteId: r.remote_id,
  casesTotal: r.cases_total,
  logTotal: r.log_total,
  casesAfterId: r.cases_after_id,
  casesDone: r.cases_done,
  logNextLine: r.log_next_line,
  logDone: r.log_done,
  casesStored: r.cases_stored,
  linesStored: r.lines_stored,
  doneAt: r.done_at,
  attempts: r.attempts,
  lastError: r.last_error,
});

/**
 * Starts (or finds) the transfer of a federated job: `pullCases` false when its lab sent the cases
 * inline (only the log is pulled), `logTotal` 0 when there is no log to pull. A transfer already
 * there is left as it is (a re-delivered callback does not restart it).
 * @returns the transfer, or null when the job is unknown here
 */
export async function openJobTransfer(
  db: FrontendDb,
  input: { instanceId: number; remoteId: number; casesTotal: number; logTotal: number; pullCases: boolean },
): Promise<TJobTransfer | null> {
  await db.$executeRaw`
    INSERT INTO job_transfer (job_id, cases_total, log_total, cases_done, log_done, updated_at)
    SELECT id, ${input.casesTotal}, ${input.logTotal}, ${!input.pullCases}, ${input.logTotal === 0}, now()
    FROM federated_job WHERE instance_id = ${input.instanceId} AND remote_id = ${input.remoteId}
    ON CONFLICT (job_id) DO NOTHING`;
  return findJobTransfer(db, input.instanceId, input.remoteId);
}

/** The transfer of a lab's job (by the lab's job id), or null. */
export async function findJobTransfer(db: FrontendDb, instanceId: number, remoteId: number): Promise<TJobTransfer | null> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT t.*, i.name AS lab, j.remote_id FROM job_transfer t JOIN federated_job j ON j.id = t.job_id JOIN instance i ON i.id = j.instance_id
    WHERE j.instance_id = ${instanceId} AND j.remote_id = ${remoteId}`;
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * Transfers not done yet of labs the frontend pulls from (with a URL), oldest first (resumed at
 * startup). An outbound-only lab's transfers are not listed: that lab pushes its cases (storeLinkCasesPage).
 */
export async function listPendingTransfers(db: FrontendDb, limit = 1000): Promise<TJobTransfer[]> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT t.*, i.name AS lab, j.remote_id FROM job_transfer t JOIN federated_job j ON j.id = t.job_id JOIN instance i ON i.id = j.instance_id
    WHERE t.done_at IS NULL AND i.url IS NOT NULL ORDER BY t.created_at, t.job_id LIMIT ${limit}`;
  return rows.map(fromRow);
}

/**
 * Stores one page of cases and moves the case cursor, in one transaction holding the transfer row's
 * lock. Only applied when the stored cursor is still `afterId` (else another runner already stored
 * this page: nothing is written and `applied` is false). `nextAfterId` null marks the cases done.
 */
export async function storeTransferCases(
  db: FrontendDb,
  input: { jobId: number; afterId: number; nextAfterId: number | null; cases: TIngestJobInput["cases"] },
): Promise<{ applied: boolean; inserted: number }> {
  return db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ cases_after_id: number; cases_done: boolean; instance_id: number; remote_id: number }[]>`
        SELECT t.cases_after_id, t.cases_done, j.instance_id, j.remote_id FROM job_transfer t JOIN federated_job j ON j.id = t.job_id
        WHERE t.job_id = ${input.jobId} FOR UPDATE OF t`;
      const r = rows[0];
      if (!r || r.cases_done || r.cases_after_id !== input.afterId) return { applied: false, inserted: 0 };
      // the job row's lock, as ingest takes it, before its rollup is updated
      await tx.$queryRaw`SELECT id FROM federated_job WHERE id = ${input.jobId} FOR UPDATE`;
      const inserted = await insertFederatedCases(tx, r.instance_id, input.jobId, r.remote_id, input.cases);
      await tx.$executeRaw`
        UPDATE job_transfer SET cases_after_id = ${input.nextAfterId ?? input.afterId}, cases_done = ${input.nextAfterId === null},
               cases_stored = cases_stored + ${inserted}, last_error = NULL, updated_at = now()
        WHERE job_id = ${input.jobId}`;
      return { applied: true, inserted };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/**
 * Stores log lines `[firstLine, nextLine)` (`text`: one line of text per log line present, `lineCount`
 * of them) and moves the log cursor to `nextLine`, in one transaction; only when the stored cursor is
 * still `firstLine` (else `applied` false, nothing written). `done` marks the log complete.
 */
export async function storeTransferLog(
  db: FrontendDb,
  input: { jobId: number; firstLine: number; nextLine: number; lineCount: number; text: string; done: boolean },
): Promise<{ applied: boolean }> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ log_next_line: number; log_done: boolean }[]>`
      SELECT log_next_line, log_done FROM job_transfer WHERE job_id = ${input.jobId} FOR UPDATE`;
    const r = rows[0];
    if (!r || r.log_done || r.log_next_line !== input.firstLine) return { applied: false };
    if (input.lineCount > 0)
      await tx.$executeRaw`
        INSERT INTO federated_log_chunk (job_id, first_line, line_count, text)
        VALUES (${input.jobId}, ${input.firstLine}, ${input.lineCount}, ${input.text}) ON CONFLICT DO NOTHING`;
    await tx.$executeRaw`
      UPDATE job_transfer SET log_next_line = ${input.nextLine}, log_done = ${input.done}, lines_stored = lines_stored + ${input.lineCount},
             last_error = NULL, updated_at = now()
      WHERE job_id = ${input.jobId}`;
    return { applied: true };
  });
}

/**
 * Closes a transfer whose cases and log are all stored: for a Finished/Complete job linked to a
 * build, the tests' statuses and the regressions around that build are recomputed now that every
 * case is here (as ingest does for a job whose cases came inline); then `done_at` is set.
 * @returns false when the transfer is not complete yet (nothing changed)
 */
export async function finishJobTransfer(db: FrontendDb, jobId: number): Promise<boolean> {
  return db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<
        {
          cases_done: boolean;
          log_done: boolean;
          done_at: Date | null;
          instance_id: number;
          device_type: string;
          state: string;
          health: string;
          error_type: string | null;
          build_id: number | null;
          tree: string | null;
          branch: string | null;
          commit: string | null;
          order_key: string | null;
        }[]
      >`
        SELECT t.cases_done, t.log_done, t.done_at, j.instance_id, j.device_type, j.state, j.health, j.error_type, j.build_id,
               b.tree, b.branch, b.commit, b.order_key
        FROM job_transfer t JOIN federated_job j ON j.id = t.job_id LEFT JOIN build b ON b.id = j.build_id
        WHERE t.job_id = ${jobId} FOR UPDATE OF t, j`;
      const r = rows[0];
      if (!r || !r.cases_done || !r.log_done) return false;
      if (r.done_at) return true;
      if (
        r.build_id !== null &&
        r.tree !== null &&
        r.branch !== null &&
        r.order_key !== null &&
        r.state === "Finished" &&
        r.health === "Complete" &&
        r.error_type !== "Infrastructure"
      ) {
        await lockBranch(tx, { tree: r.tree, branch: r.branch, commit: r.commit ?? "", describe: null, url: null, kernelVersion: null });
        await recomputeForJob(
          tx,
          { id: jobId, instanceId: r.instance_id, deviceType: r.device_type },
          { id: r.build_id, orderKey: r.order_key, tree: r.tree, branch: r.branch },
        );
      }
      await tx.$executeRaw`UPDATE job_transfer SET done_at = now(), updated_at = now() WHERE job_id = ${jobId}`;
      return true;
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** Records a failed attempt (the runner retries later from the stored cursors). */
export async function recordTransferError(db: FrontendDb, jobId: number, error: string): Promise<void> {
  await db.$executeRaw`
    UPDATE job_transfer SET attempts = attempts + 1, last_error = ${error.slice(0, 2000)}, updated_at = now() WHERE job_id = ${jobId}`;
}

/** Counts an attempt of a transfer (a run starting or resuming). */
export async function countTransferAttempt(db: FrontendDb, jobId: number): Promise<void> {
  await db.$executeRaw`UPDATE job_transfer SET attempts = attempts + 1, updated_at = now() WHERE job_id = ${jobId}`;
}

/**
 * Log lines of a federated job copied by its transfer, from line `start` on: the stored chunks
 * overlapping `[start, start + limit)`, in line order (text of each chunk, with its first line).
 */
export async function readTransferredLog(
  db: FrontendDb,
  jobId: number,
  start: number,
  limit: number,
): Promise<{ firstLine: number; lineCount: number; text: string }[]> {
  const rows = await db.$queryRaw<{ first_line: number; line_count: number; text: string }[]>`
    SELECT first_line, line_count, text FROM federated_log_chunk
    WHERE job_id = ${jobId} AND first_line < ${start + limit}
      AND first_line >= COALESCE((SELECT max(first_line) FROM federated_log_chunk WHERE job_id = ${jobId} AND first_line <= ${start}), 0)
    ORDER BY first_line`;
  return rows.map((r) => ({ firstLine: r.first_line, lineCount: r.line_count, text: r.text }));
}

/** A pushed job's case progress as the lab link answers it (see {@link storeLinkCasesPage}). */
export interface TLinkCasesState {
  /** the lab's job id */
  jobId: number;
  /** false: no transfer of this job here (its Finished callback with totals has not arrived) */
  known: boolean;
  /** remote case id the next page starts after */
  afterId: number;
  /** every case is stored (and the transfer closed) */
  done: boolean;
}

/**
 * Stores one page of cases an outbound-only lab pushed for its job `remoteId` (issue 13 item 6),
 * through the job's transfer (opened by the Finished callback's `magma.transfer`; its log is
 * pushed separately, so only its cases are open): the page is stored only when it starts at the
 * stored cursor (`afterId` equal to `cases_after_id`), in the transaction that moves the cursor to
 * `nextAfterId` (storeTransferCases: cases inserted ON CONFLICT DO NOTHING, rollups in the same
 * statement), so a page re-sent after a lost answer or a restart stores nothing twice. `nextAfterId`
 * null marks the cases complete; the transfer is then closed (finishJobTransfer: build statuses
 * recomputed). `afterId` null only asks for the cursor.
 * @returns the job's progress after the call (`known` false and nothing stored for a job without transfer)
 */
export async function storeLinkCasesPage(
  db: FrontendDb,
  input: { instanceId: number; remoteId: number; afterId: number | null; nextAfterId: number | null; cases: TIngestJobInput["cases"] },
): Promise<TLinkCasesState> {
  let t = await findJobTransfer(db, input.instanceId, input.remoteId);
  if (!t) return { jobId: input.remoteId, known: false, afterId: 0, done: false };
  if (input.afterId !== null && !t.casesDone && t.casesAfterId === input.afterId) {
    await storeTransferCases(db, { jobId: t.jobId, afterId: input.afterId, nextAfterId: input.nextAfterId, cases: input.cases });
    t = (await findJobTransfer(db, input.instanceId, input.remoteId))!;
  }
  if (t.casesDone && t.logDone && !t.doneAt) {
    await finishJobTransfer(db, t.jobId);
    t = (await findJobTransfer(db, input.instanceId, input.remoteId))!;
  }
  return { jobId: input.remoteId, known: true, afterId: t.casesAfterId, done: t.casesDone && t.doneAt !== null };
}

/**
 * Jobs of lab `instanceId` whose pushed cases are not all stored yet, oldest first (`limit` of
 * them), with the case id to resume after: the lab link's poll lists them so a restarted lab resumes.
 */
export async function listLinkCasesWanted(
  db: FrontendDb,
  instanceId: number,
  limit: number,
): Promise<{ jobId: number; afterId: number }[]> {
  const rows = await db.$queryRaw<{ remote_id: number; cases_after_id: number }[]>`
    SELECT j.remote_id, t.cases_after_id FROM job_transfer t JOIN federated_job j ON j.id = t.job_id
    WHERE j.instance_id = ${instanceId} AND t.done_at IS NULL ORDER BY t.created_at, t.job_id LIMIT ${limit}`;
  return rows.map((r) => ({ jobId: r.remote_id, afterId: r.cases_after_id }));
}
