import { MAX_LOG_MSG_CHARS, type TLogRecord } from "@magma/protocol";
import { inTransaction, type InstanceContext } from "../context.ts";
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
 * @returns `{line_count}` = lines of this batch consumed (skipped + stored), what the worker drops
 */
export async function ingestLogs({ ctx, jobId, index, lines }: IngestLogsOptions): Promise<{ line_count: number; stored: number }> {
  const log = ctx.logger.child({ jobId });
  const stored = await inTransaction(ctx, async (t) => {
    // lock + read the one column needed in one round trip (lockJob reads the whole row after locking)
    const locked = await t.tx.$queryRaw<{ log_line_count: number }[]>`SELECT log_line_count FROM test_jobs WHERE id = ${jobId} FOR UPDATE`;
    if (!locked[0]) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
    const have = locked[0].log_line_count;
    if (index > have) log.warn({ index, stored: have }, "log upload starts after the stored lines: gap kept");
    const skip = Math.max(0, have - index);
    const fresh = lines.slice(skip);
    if (!fresh.length) return 0;
    // one INSERT … SELECT FROM unnest(arrays): 4 parameters whatever the batch size, instead of a
    // 5-parameters-per-row VALUES list the client has to build and the server to parse
    const indexes = fresh.map((_, i) => have + i);
    await t.tx.$executeRaw`
      INSERT INTO log_lines (job_id, index, dt, lvl, msg)
      SELECT ${jobId}, l.index, l.dt, l.lvl, l.msg::json
      FROM unnest(${indexes}::int[], ${fresh.map((r) => r.dt)}::text[], ${fresh.map((r) => r.lvl)}::text[], ${fresh.map((r) => JSON.stringify(cut(r.msg)))}::text[]) AS l(index, dt, lvl, msg)`;
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
    await t.tx.$executeRaw`UPDATE test_jobs SET log_line_count = ${have + fresh.length} WHERE id = ${jobId}`;
    t.effects.jobChanged(jobId);
    return fresh.length;
  });
  if (stored) ctx.metrics?.logLinesIngested.inc(stored);
  return { line_count: lines.length, stored };
}
