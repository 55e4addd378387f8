import { MAX_LOG_MSG_CHARS, type TLogRecord } from "@magma/protocol";
import { directTransaction, txQuery, type DirectQuery } from "@magma/db/instance";
import { inTransaction, type InstanceContext } from "../context.ts";
import { Effects, applyEffects } from "../effects.ts";
import type { Logger } from "../logger.ts";
import { AppError } from "../app-error.ts";
import { extractResult, type ExtractedResult } from "./extract-result.ts";

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
 * Plain SQL ({@link storeBatch}) in a transaction on the `pg` pool, or in a Prisma transaction when
 * the client has no pool (a few statements whatever the batch size: no Prisma engine on this path).
 * @returns `{line_count}` = lines of this batch consumed (skipped + stored), what the worker drops
 * @throws AppError NOT_FOUND when the job does not exist
 */
export async function ingestLogs({ ctx, jobId, index, lines }: IngestLogsOptions): Promise<{ line_count: number; stored: number }> {
  const log = ctx.logger.child({ jobId });
  const effects = new Effects();
  let stored = await directTransaction(ctx.db, (query) => storeBatch(query, effects, jobId, index, lines, log));
  if (stored === undefined) stored = await inTransaction(ctx, (t) => storeBatch(txQuery(t.tx), t.effects, jobId, index, lines, log));
  else applyEffects(effects, ctx);
  if (stored) ctx.metrics?.logLinesIngested.inc(stored);
  return { line_count: lines.length, stored };
}

/**
 * The three steps of {@link ingestLogs} on `query`, inside its transaction; what must be woken after
 * the commit goes to `effects` (the job changed; cases recorded).
 * @returns the number of lines stored (0 for a replay)
 */
async function storeBatch(
  query: DirectQuery,
  effects: Effects,
  jobId: number,
  index: number,
  lines: TLogRecord[],
  log: Logger,
): Promise<number> {
  const locked = await query<{ log_line_count: number }>("log_lock_job", "SELECT log_line_count FROM test_jobs WHERE id = $1 FOR UPDATE", [
    jobId,
  ]);
  if (!locked[0]) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  const have = locked[0].log_line_count;
  if (index > have) log.warn({ index, stored: have }, "log upload starts after the stored lines: gap kept");
  const fresh = lines.slice(Math.max(0, have - index));
  if (!fresh.length) return 0;
  // one INSERT … SELECT FROM unnest(arrays): 5 parameters whatever the batch size
  await query(
    "log_insert_lines",
    `INSERT INTO log_lines (job_id, index, dt, lvl, msg)
     SELECT $1, l.index, l.dt, l.lvl, l.msg::json
     FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS l(index, dt, lvl, msg)`,
    [jobId, fresh.map((_, i) => have + i), fresh.map((r) => r.dt), fresh.map((r) => r.lvl), fresh.map((r) => JSON.stringify(cut(r.msg)))],
  );
  const results: { lineNo: number; res: ExtractedResult }[] = [];
  for (const [i, r] of fresh.entries()) {
    if (r.lvl !== "results") continue;
    const res = extractResult(r.msg);
    if ("error" in res) log.warn({ line: have + i, error: res.error }, "results record ignored (kept as a log line)");
    else results.push({ lineNo: have + i, res });
  }
  if (results.length && (await storeCases(query, jobId, results))) effects.recordedCases(jobId);
  await query("log_set_count", "UPDATE test_jobs SET log_line_count = $2 WHERE id = $1", [jobId, have + fresh.length]);
  effects.jobChanged(jobId);
  return fresh.length;
}

/**
 * Stores the test cases read from a batch's results records: their suites (created once per job and
 * name; the job row is locked, so no other batch of the job races), then the cases in one INSERT,
 * skipping any whose log line already made one (the unique (job, log line) key, as a replay).
 * @returns the number of cases inserted
 */
async function storeCases(query: DirectQuery, jobId: number, results: { lineNo: number; res: ExtractedResult }[]): Promise<number> {
  const names = [...new Set(results.map((r) => r.res.suite))];
  const suites = await query<{ id: number; name: string }>(
    "log_suites",
    `WITH ins AS (INSERT INTO test_suites (job_id, name) SELECT $1, unnest($2::text[]) ON CONFLICT (job_id, name) DO NOTHING RETURNING id, name)
     SELECT id, name FROM ins
     UNION ALL
     SELECT id, name FROM test_suites WHERE job_id = $1 AND name = ANY($2::text[]) AND name NOT IN (SELECT name FROM ins)`,
    [jobId, names],
  );
  const suiteIds = new Map(suites.map((x) => [x.name, x.id]));
  const rows = results.map(({ lineNo, res }) => ({
    suite_id: suiteIds.get(res.suite),
    name: res.name,
    result: res.result,
    measurement: res.measurement,
    units: res.units,
    test_set: res.testSet,
    start_log_line: res.startLogLine,
    end_log_line: res.endLogLine,
    metadata: res.metadata,
    log_line_index: lineNo,
  }));
  const inserted = await query(
    "log_insert_cases",
    `INSERT INTO test_cases (job_id, suite_id, name, result, measurement, units, test_set, start_log_line, end_log_line, metadata, log_line_index)
     SELECT $1, r.suite_id, r.name, r.result::"TestResult", r.measurement::numeric, r.units, r.test_set, r.start_log_line,
            r.end_log_line, r.metadata, r.log_line_index
     FROM jsonb_to_recordset($2::jsonb) AS r(suite_id int, name text, result text, measurement text, units text, test_set text,
          start_log_line int, end_log_line int, metadata jsonb, log_line_index int)
     ON CONFLICT DO NOTHING
     RETURNING 1 AS one`,
    [jobId, JSON.stringify(rows)],
  );
  return inserted.length;
}
