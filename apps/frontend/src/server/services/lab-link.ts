import {
  ackJobCancel,
  findInstanceByName,
  listLinkCasesWanted,
  listLinkLogsWanted,
  storeLinkCasesPage,
  listPendingCancels,
  storeLinkLogChunk,
  findLabTarget,
  listQueuedTargetsForLab,
  markTargetFailed,
  markTargetSubmitted,
  touchInstance,
  type FrontendDb,
  type TInstanceRecord,
} from "@magma/db/frontend";
import type {
  TLabAck,
  TLabAcksResponse,
  TLabCancelAck,
  TLabCasesPage,
  TLabCasesPushResponse,
  TLabLogChunk,
  TLabLogPushResponse,
  TLabWork,
} from "@magma/protocol";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { comparableCallbackToken } from "../auth/secret-box.ts";
import { toCaseInput } from "./ingest-callback.ts";
import { safeEqual } from "./receive-callback.ts";

/** Most submissions (and cancels) handed out per poll. */
const WORK_BATCH = 20;
/** Most jobs listed per poll whose pushed log is not complete yet. */
const LOGS_WANTED_BATCH = 100;
/** Most huge jobs listed per poll whose pushed cases are not all stored yet. */
const CASES_WANTED_BATCH = 100;
/** How often a waiting long poll looks for new work, ms. */
const POLL_STEP_MS = 500;

/**
 * The outbound-only lab `lab` presenting `credential` (its link's `Authorization: Token …`): the
 * credential's digest is the lab's callback token, compared in constant time. Records the contact.
 * @throws AppError UNAUTHENTICATED (no credential), NOT_FOUND (unknown lab), FORBIDDEN (wrong
 *   credential, or the lab is not an enrolled outbound lab)
 */
export async function authenticateLab(db: FrontendDb, lab: string, credential: string | null): Promise<TInstanceRecord> {
  if (!credential) throw new AppError("UNAUTHENTICATED", { message: `Lab link of "${lab}" needs 'Authorization: Token <credential>'` });
  const instance = await findInstanceByName(db, lab);
  if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${lab}" is not configured on this frontend` });
  if (instance.url !== null || !instance.enrolledAt)
    throw new AppError("FORBIDDEN", { message: `Lab "${lab}" is not an enrolled outbound lab (run \`npm run labs -- enroll ${lab}\`)` });
  if (!safeEqual(comparableCallbackToken(credential, instance.callbackToken), instance.callbackToken))
    throw new AppError("FORBIDDEN", { message: `Credential of lab "${lab}" is wrong` });
  await touchInstance(db, instance.id);
  return instance;
}

export interface PollLabWorkOptions {
  db: FrontendDb;
  lab: TInstanceRecord;
  /** longest wait for work, seconds (0: answer at once) */
  waitS: number;
  /** aborted when the lab hangs up: the poll ends early with no work */
  signal?: AbortSignal;
}

/**
 * A long poll of an outbound lab's work: the submission targets queued for it (oldest first, at
 * most 20) and the cancels of its jobs not acknowledged yet (at most 20), answered as soon as there
 * is any, else after `waitS` seconds with none. Both are re-sent on every poll until the lab
 * acknowledges them, so nothing is lost when a connection drops mid-answer; the lab's idempotency
 * key makes a re-sent submission create no second job, and canceling a job twice changes nothing.
 * The answer also lists (`logs`) the lab's jobs whose pushed log is not complete, with the line to
 * resume from, and (`cases`) its huge Finished jobs whose pushed cases are not all stored, with the
 * case id to resume after. The lab's last contact time is refreshed while it waits.
 */
export async function pollLabWork({ db, lab, waitS, signal }: PollLabWorkOptions): Promise<TLabWork> {
  const end = Date.now() + waitS * 1000;
  let lastTouch = Date.now();
  for (;;) {
    const queued = await listQueuedTargetsForLab(db, lab.id, WORK_BATCH);
    const cancels = await listPendingCancels(db, lab.id, WORK_BATCH);
    if (queued.length || cancels.length || Date.now() >= end || signal?.aborted) {
      const logs = await listLinkLogsWanted(db, lab.id, LOGS_WANTED_BATCH);
      const wantedCases = await listLinkCasesWanted(db, lab.id, CASES_WANTED_BATCH);
      return {
        submissions: queued.map((t) => ({
          target_id: t.targetId,
          idempotency_key: `${t.submissionId}-${lab.name}`,
          definition: t.definition,
          submitter: t.submitter,
        })),
        cancels: cancels.map((c) => ({ cancel_id: c.cancelId, job_id: c.jobId, requested_by: c.requestedBy })),
        logs: logs.map((l) => ({ job_id: l.jobId, next_line: l.nextLine })),
        cases: wantedCases.map((c) => ({ job_id: c.jobId, after_id: c.afterId })),
      };
    }
    if (Date.now() - lastTouch > 10_000) {
      await touchInstance(db, lab.id);
      lastTouch = Date.now();
    }
    // one abort listener per step, removed again (a 25 s poll would otherwise pile up 50 of them)
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, Math.min(POLL_STEP_MS, Math.max(0, end - Date.now())));
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/**
 * Applies an outbound lab's acknowledgements: a job id marks the target submitted (idempotent; an
 * already-submitted target keeps its job id), an error marks it failed with the lab's message; a
 * cancel acknowledgement stops that cancel being sent (the job's Canceling/Finished state arrives
 * through the lab's state callbacks). Targets and cancels of other labs or unknown ones are listed as
 * `unknown` and left alone.
 */
export async function applyLabAcks(
  db: FrontendDb,
  lab: TInstanceRecord,
  acks: TLabAck[],
  log: Logger,
  cancels: TLabCancelAck[] = [],
): Promise<TLabAcksResponse> {
  const unknown: string[] = [];
  let accepted = 0;
  for (const c of cancels) {
    const result = "state" in c ? c.state : `error: ${c.error}`;
    if (!(await ackJobCancel(db, lab.id, c.cancel_id, result))) {
      unknown.push(c.cancel_id);
      continue;
    }
    accepted++;
    log.info({ lab: lab.name, cancelId: c.cancel_id, result }, "outbound lab acknowledged cancel");
  }
  for (const a of acks) {
    const t = await findLabTarget(db, lab.id, a.target_id);
    if (!t) {
      unknown.push(a.target_id);
      continue;
    }
    accepted++;
    if ("job_id" in a) {
      if (t.status === "submitted") continue;
      await markTargetSubmitted(db, t.id, a.job_id);
      log.info({ lab: lab.name, targetId: t.id, remoteJobId: a.job_id }, "outbound lab took submission target");
    } else {
      await markTargetFailed(db, t.id, `${lab.name} refused the job: ${a.error}`);
      log.warn({ lab: lab.name, targetId: t.id, error: a.error }, "outbound lab refused submission target");
    }
  }
  return { accepted, unknown };
}

/**
 * Stores the log chunks an outbound lab pushed (each exactly once by line index, see
 * storeLinkLogChunk) and answers each job's progress, so the lab drops what is stored and rewinds
 * when it sent past the resume point. A job the frontend does not know yet is answered `known:
 * false` (the lab pushes it again once its state callback arrived).
 */
export async function receiveLabLogs(db: FrontendDb, lab: TInstanceRecord, chunks: TLabLogChunk[]): Promise<TLabLogPushResponse> {
  const jobs = new Map<number, TLabLogPushResponse["jobs"][number]>();
  for (const c of chunks) {
    const r = await storeLinkLogChunk(db, {
      instanceId: lab.id,
      remoteId: c.job_id,
      firstLine: c.first_line,
      lines: c.lines,
      ...(c.end !== undefined ? { end: c.end } : {}),
    });
    jobs.set(c.job_id, { job_id: c.job_id, known: r.known, next_line: r.nextLine, done: r.done });
  }
  return { jobs: [...jobs.values()] };
}

/**
 * Stores the pages of test cases an outbound lab pushed for its huge Finished jobs (each page only
 * when it starts at the job's stored cursor, exactly once, see storeLinkCasesPage; an unparsable
 * case is skipped and logged, as a pulled page's) and answers each job's progress, so the lab
 * resumes from the frontend's cursor and stops once `done`. A job without transfer here (its
 * Finished callback has not arrived yet) is answered `known: false`.
 */
export async function receiveLabCases(
  db: FrontendDb,
  lab: TInstanceRecord,
  pages: TLabCasesPage[],
  log: Logger,
): Promise<TLabCasesPushResponse> {
  const jobs = new Map<number, TLabCasesPushResponse["jobs"][number]>();
  for (const p of pages) {
    const cases = [];
    for (const item of p.results) {
      const c = toCaseInput(item, "unknown");
      if (typeof c === "string")
        log.warn(
          { lab: lab.name, remoteJobId: p.job_id, item: JSON.stringify(item).slice(0, 200), problems: c },
          "skipped an unparsable test case",
        );
      else cases.push(c);
    }
    const r = await storeLinkCasesPage(db, {
      instanceId: lab.id,
      remoteId: p.job_id,
      afterId: p.after_id,
      nextAfterId: p.next_after_id,
      cases,
    });
    if (r.done && !jobs.get(p.job_id)?.done) log.info({ lab: lab.name, remoteJobId: p.job_id }, "pushed test cases complete");
    jobs.set(p.job_id, { job_id: p.job_id, known: r.known, after_id: r.afterId, done: r.done });
  }
  return { jobs: [...jobs.values()] };
}
