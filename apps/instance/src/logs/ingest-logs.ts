import { MAX_LOG_MSG_CHARS, type TLogRecord } from "@magma/protocol";
import { directTransaction, txQuery, type DirectQuery } from "@magma/db/instance";
import { inTransaction, type InstanceContext } from "../context.ts";
import { Effects, applyEffects } from "../effects.ts";
import type { Logger } from "../logger.ts";
import { AppError } from "../app-error.ts";
import { extractResult } from "./extract-result.ts";

export interface IngestLogsOptions {
  ctx: InstanceContext;
  jobId: number;
  /** how many lines the worker believes are stored */
  index: number;
  lines: TLogRecord[];
}

const cut = (msg: TLogRecord["msg"]) =>
  typeof msg === "string" && msg.length > MAX_LOG_MSG_CHARS
    ? `${msg.slice(0, MAX_LOG_MSG_CHARS)}… [truncated ${msg.length - MAX_LOG_MSG_CHARS} chars]`
    : msg;

/**
 * Stores a log batch exactly once, LAVA's `internal_v1_jobs_logs`, in ONE transaction with the job
 * row locked (`FOR UPDATE`), so concurrent or replayed uploads serialise:
 *  1. `skip = stored - index` leading lines are already stored and are skipped;
 *  2. the rest become LogLine rows `stored, stored+1, …` (msg strings cut at MAX_LOG_MSG_CHARS);
 *  3. `lvl: results` records become TestSuite/TestCase rows (unique per log line, so never twice);
 *     an invalid record keeps its log line, is logged as a warning and makes no case; new cases
 *     arm the job's live-results push to the federation (notify/live-results.ts) after commit.
 * When `index > stored` (lines the worker thinks are stored are missing) the batch is appended after
 * what is stored and a warning is logged: losing the gap is better than refusing the rest.
 * A batch with no results record runs on the `pg` pool ({@link storeLinesDirect}), one with results
 * in a Prisma transaction (the same SQL for steps 1–2 and the count, Prisma for suites and cases).
 * @returns `{line_count}` = lines of this batch consumed (skipped + stored), what the worker drops
 */
export async function ingestLogs({ ctx, jobId, index, lines }: IngestLogsOptions): Promise<{ line_count: number; stored: number }> {
  const log = ctx.logger.child({ jobId });
  // a batch with no results record (the bulk of a job's log) runs on the pg pool: no Prisma engine
  const stored =
    (lines.some((r) => r.lvl === "results") ? undefined : await storeLinesDirect(ctx, jobId, index, lines, log)) ??
    (await inTransaction(ctx, async (t) => {
      const query = txQuery(t.tx);
      const { have, fresh } = await storeLines(query, jobId, index, lines, log);
      if (!fresh.length) return 0;
      const suiteIds = new Map<string, number>();
      const cases = [];
      for (const [i, r] of fresh.entries()) {
        if (r.lvl !== "results") continue;
        const lineNo = have + i;
        const res = extractResult(r.msg);
        if ("error" in res) {
          log.warn({ line: lineNo, error: res.error }, "results record ignored (kept as a log line)");
          continue;
        }
        let suiteId = suiteIds.get(res.suite);
        if (suiteId === undefined) {
          const s = await t.tx.testSuite.upsert({
            where: { jobId_name: { jobId, name: res.suite } },
            create: { jobId, name: res.suite },
            update: {},
          });
          suiteId = s.id;
          suiteIds.set(res.suite, suiteId);
        }
        cases.push({
          jobId,
          suiteId,
          name: res.name,
          result: res.result,
          measurement: res.measurement,
          units: res.units,
          testSet: res.testSet,
          startLogLine: res.startLogLine,
          endLogLine: res.endLogLine,
          metadata: res.metadata as object,
          logLineIndex: lineNo,
        });
      }
      if (cases.length) {
        const { count } = await t.tx.testCase.createMany({ data: cases, skipDuplicates: true });
        if (count) t.effects.recordedCases(jobId);
      }
      await setLineCount(query, jobId, have + fresh.length);
      t.effects.jobChanged(jobId);
      return fresh.length;
    }));
  if (stored) ctx.metrics?.logLinesIngested.inc(stored);
  return { line_count: lines.length, stored };
}

/**
 * Steps 1–2 of {@link ingestLogs} on `query` (inside its transaction): locks the job row, reads how
 * many lines are stored, inserts the fresh ones (one INSERT … SELECT FROM unnest(arrays): 4
 * parameters whatever the batch size).
 * @returns the count stored before and the fresh records (already stored from `have`)
 * @throws AppError NOT_FOUND when the job does not exist
 */
async function storeLines(
  query: DirectQuery,
  jobId: number,
  index: number,
  lines: TLogRecord[],
  log: Logger,
): Promise<{ have: number; fresh: TLogRecord[] }> {
  const locked = await query<{ log_line_count: number }>("log_lock_job", "SELECT log_line_count FROM test_jobs WHERE id = $1 FOR UPDATE", [
    jobId,
  ]);
  if (!locked[0]) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  const have = locked[0].log_line_count;
  if (index > have) log.warn({ index, stored: have }, "log upload starts after the stored lines: gap kept");
  const fresh = lines.slice(Math.max(0, have - index));
  if (!fresh.length) return { have, fresh };
  await query(
    "log_insert_lines",
    `INSERT INTO log_lines (job_id, index, dt, lvl, msg)
     SELECT $1, l.index, l.dt, l.lvl, l.msg::json
     FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS l(index, dt, lvl, msg)`,
    [jobId, fresh.map((_, i) => have + i), fresh.map((r) => r.dt), fresh.map((r) => r.lvl), fresh.map((r) => JSON.stringify(cut(r.msg)))],
  );
  return { have, fresh };
}

/** The job's stored line count, the last step of {@link ingestLogs}. */
async function setLineCount(query: DirectQuery, jobId: number, count: number): Promise<void> {
  await query("log_set_count", "UPDATE test_jobs SET log_line_count = $2 WHERE id = $1", [jobId, count]);
}

/**
 * {@link ingestLogs} for a batch without results records, in one transaction on the `pg` pool
 * (directTransaction); the job's change is announced after the commit.
 * @returns the lines stored; undefined when there is no `pg` pool (the caller uses Prisma)
 */
async function storeLinesDirect(
  ctx: InstanceContext,
  jobId: number,
  index: number,
  lines: TLogRecord[],
  log: Logger,
): Promise<number | undefined> {
  const stored = await directTransaction(ctx.db, async (query) => {
    const { have, fresh } = await storeLines(query, jobId, index, lines, log);
    if (fresh.length) await setLineCount(query, jobId, have + fresh.length);
    return fresh.length;
  });
  if (stored) applyEffects(new Effects().jobChanged(jobId), ctx);
  return stored;
}
