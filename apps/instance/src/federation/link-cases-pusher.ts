import { FEDERATION_INLINE_CASES, type TLabCasesPage, type TLabCasesPushResponse, type TLabCasesWanted } from "@magma/protocol";
import { countCases, listCasesAfter } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { LinkPusher } from "./link-pusher.ts";
import { toLavaTestCaseExport } from "../results/test-case-dto.ts";

/** How often the pusher looks for newly finished huge jobs when idle, ms. */
export const CASES_PUSH_INTERVAL_MS = 1000;
/** Cases per pushed page (the frontend accepts up to LAB_CASES_PAGE_MAX). */
export const CASES_PUSH_PAGE = 2000;
/** Most jobs (one page each) per push: a push carries at most 4 × 2 000 cases. */
const MAX_PUSH_PAGES = 4;
/** A job the frontend does not wait for yet is asked about again after this long, ms. */
const UNKNOWN_RETRY_MS = 2000;
/** …and given up after this long (the poll lists it again once the frontend waits for it), ms. */
const UNKNOWN_GIVE_UP_MS = 10 * 60 * 1000;
/** Finished jobs looked at after a start (their cases may be incomplete on the frontend), ms back. */
const RECENT_FINISHED_MS = 60 * 60 * 1000;
/** Overlap of the scans for newly finished jobs (an end time committed late), ms. */
const SCAN_OVERLAP_MS = 60_000;

interface Cursor {
  /** case id the frontend's next page starts after; null: not known yet (ask with an empty page) */
  after: number | null;
  /** when an unknown job may be asked about again (epoch ms) */
  retryAt: number;
  /** when the frontend first answered it did not know the job (epoch ms), or null */
  unknownSince: number | null;
}

/**
 * Pushes the test cases of the lab's huge Finished jobs to the frontend over the outbound link
 * (`POST …/labs/<lab>/cases`, issue 13 item 6): a job with more cases than FEDERATION_INLINE_CASES
 * finishes with a callback carrying totals only, and the frontend, which cannot pull from an
 * outbound lab, waits for these pushes. Cases go by keyset pages of {@link CASES_PUSH_PAGE} in
 * case-id order (at most {@link MAX_PUSH_PAGES} jobs per push), each starting after the cursor the
 * frontend answered (it keeps the last stored case id per job). The frontend stores a page only
 * when it starts at its cursor, so a page re-sent after a lost answer or a restart is stored once;
 * the pusher moves its cursor only from the frontend's answer and drops a job once it answers
 * `done`. Every case of the job is sent, including those already pushed live while it ran (the
 * frontend inserts them ON CONFLICT DO NOTHING). Jobs followed: those the poll lists
 * ({@link LinkCasesPusher.want}), and huge jobs found Finished since an hour before the start.
 * The loop around {@link LinkCasesPusher.pushOnce} (backoff on failure, wake, stop) is {@link LinkPusher}'s.
 */
export class LinkCasesPusher extends LinkPusher {
  private readonly cursors = new Map<number, Cursor>();
  /** finished jobs already looked at by a scan → their end time (epoch ms), pruned as scans move on */
  private readonly scanned = new Map<number, number>();
  private scanFrom: number;

  /**
   * @param post sends one push and returns the frontend's answer; throws on any failure
   * @param pageSize cases per page (tests use smaller pages)
   */
  constructor(
    ctx: InstanceContext,
    private readonly post: (pages: TLabCasesPage[]) => Promise<TLabCasesPushResponse>,
    private readonly pageSize = CASES_PUSH_PAGE,
  ) {
    super(ctx, CASES_PUSH_INTERVAL_MS, "cases");
    this.scanFrom = Date.now() - RECENT_FINISHED_MS;
  }

  /** Jobs whose cases the frontend still waits for (from a poll answer), with the case id to resume after. */
  want(cases: TLabCasesWanted[]): void {
    // a cursor this process already follows is newer than the poll's snapshot
    for (const c of cases) {
      const cur = this.cursors.get(c.job_id);
      if (!cur || cur.after === null) this.cursors.set(c.job_id, { after: c.after_id, retryAt: 0, unknownSince: null });
    }
    if (cases.length) this.wakeUp();
  }

  /** Follows the huge jobs finished since the last scan (asking the frontend where to resume). */
  private async scan(): Promise<void> {
    const now = Date.now();
    const finished = await this.ctx.db.testJob.findMany({
      where: { state: "Finished", endTime: { gte: new Date(this.scanFrom) } },
      select: { id: true, endTime: true },
      orderBy: [{ endTime: "asc" }, { id: "asc" }],
    });
    for (const j of finished) {
      if (this.scanned.has(j.id)) continue;
      this.scanned.set(j.id, j.endTime!.getTime());
      if (this.cursors.has(j.id)) continue;
      if ((await countCases(this.ctx.db, j.id)) > FEDERATION_INLINE_CASES)
        this.cursors.set(j.id, { after: null, retryAt: 0, unknownSince: null });
    }
    this.scanFrom = Math.max(this.scanFrom, now - SCAN_OVERLAP_MS);
    for (const [id, end] of this.scanned) if (end < this.scanFrom) this.scanned.delete(id);
  }

  /**
   * One push of whatever is due.
   * @returns true when pages remain to be sent at once
   */
  override async pushOnce(): Promise<boolean> {
    await this.scan();
    const now = Date.now();
    const pages: TLabCasesPage[] = [];
    let more = false;
    for (const [jobId, c] of [...this.cursors].sort((a, b) => a[0] - b[0])) {
      if (c.retryAt > now) continue;
      if (pages.length >= MAX_PUSH_PAGES) {
        more = true;
        break;
      }
      if (c.after === null) {
        pages.push({ job_id: jobId, after_id: null, results: [], next_after_id: null });
        continue;
      }
      const cases = await listCasesAfter(this.ctx.db, jobId, c.after, this.pageSize);
      const last = cases.at(-1);
      const next = last && cases.length === this.pageSize ? last.id : null;
      if (next !== null) more = true;
      pages.push({ job_id: jobId, after_id: c.after, results: cases.map(toLavaTestCaseExport), next_after_id: next });
    }
    if (!pages.length) return false;
    const answer = await this.post(pages);
    const at = Date.now();
    for (const r of answer.jobs) {
      const cur = this.cursors.get(r.job_id);
      if (!cur) continue;
      if (r.done) {
        this.cursors.delete(r.job_id);
        this.ctx.logger.info({ jobId: r.job_id }, "pushed test cases complete on the frontend");
      } else if (!r.known) {
        const since = cur.unknownSince ?? at;
        // the Finished callback has not reached the frontend yet: ask again a little later
        if (at - since > UNKNOWN_GIVE_UP_MS) this.cursors.delete(r.job_id);
        else this.cursors.set(r.job_id, { after: null, retryAt: at + UNKNOWN_RETRY_MS, unknownSince: since });
      } else {
        // the next page at once while the cursor moves (not when the frontend stored nothing)
        if (r.after_id !== cur.after) more = true;
        this.cursors.set(r.job_id, { after: r.after_id, retryAt: 0, unknownSince: null });
      }
    }
    return more;
  }
}
