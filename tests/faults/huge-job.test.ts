/**
 * Issue 13 item 6, huge jobs: a job too big for one callback (20 000 test cases, 60 000 log lines)
 * crosses the federation in bounded chunks (cases 500 per page, log 2 000 lines per range) from a real
 * instance process to the frontend's transfer (its own process, the frontend's code), which is
 * SIGKILLed twice mid-transfer (once while paging cases, once while copying the log) and started
 * again: each restart continues from the stored cursor, and in the end every case and line is in the
 * frontend exactly once.
 */
import path from "node:path";
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEDERATION_INLINE_CASES, ZNotifyPayload } from "@magma/protocol";
import { ADMIN_TOKEN, STATE_DIR, cleanupAll, connect, createDatabase, startInstance, waitUntil } from "../bench/lib.ts";
import { addLabToFrontend, expectedRollup, frontendCopy, runTransferProcess, seedHugeJob } from "../tools/huge-job.ts";

const CASES = 20_000;
const LINES = 60_000;
const PAGE = 500;
const LOG_CHUNK = 2_000;

let instanceUrl: string;
let frontendDbUrl: string;
let jobId: number;
let fe: Awaited<ReturnType<typeof connect>>;
const logPath = path.join(STATE_DIR, "huge-job-transfer.log");

beforeAll(async () => {
  mkdirSync(STATE_DIR, { recursive: true });
  const instanceDb = await createDatabase("instance", "huge_instance");
  const c = await connect(instanceDb);
  jobId = await seedHugeJob(c, instanceDb, CASES, LINES);
  instanceUrl = (await startInstance("huge", instanceDb, { MAGMA_LOG_LEVEL: "warn" })).url;
  frontendDbUrl = await createDatabase("frontend", "huge_frontend");
  fe = await connect(frontendDbUrl);
  await addLabToFrontend(fe, "lab-huge", instanceUrl);
});
afterAll(async () => {
  await cleanupAll();
});

const progress = async () =>
  (
    await fe.query<{ cases_stored: number; lines_stored: number; cases_after_id: number; log_next_line: number; attempts: number }>(
      "SELECT cases_stored, lines_stored, cases_after_id, log_next_line, attempts FROM job_transfer",
    )
  ).rows[0];

describe("huge job: bounded chunks, resumable, exactly once", () => {
  it("the federation payload carries the job and the totals, not the cases or the log", async () => {
    const res = await fetch(`${instanceUrl}/api/v0.2/magma/jobs/${jobId}/federation/`, {
      headers: { authorization: `Token ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const p = ZNotifyPayload.parse(await res.json());
    expect(CASES).toBeGreaterThan(FEDERATION_INLINE_CASES);
    expect(p.results).toBeUndefined();
    expect(p.log).toBeUndefined();
    expect(p.magma?.transfer).toEqual({ test_cases: CASES, log_lines: LINES, results_inline: false });
  });

  it("a transfer killed while paging cases, then while copying the log, resumes each time and ends with everything exactly once", async () => {
    const opts = { frontendDbUrl, lab: "lab-huge", jobId, page: PAGE, logChunk: LOG_CHUNK, logPath };

    // 1. killed while paging the cases
    const t0 = performance.now();
    const first = runTransferProcess(opts);
    const atKill1 = await waitUntil("a few pages of cases stored", 120_000, async () => {
      const p = await progress();
      return p && p.cases_stored >= 4 * PAGE ? p : undefined;
    });
    first.child.kill("SIGKILL");
    const r1 = await first.done;
    console.log(`[huge-job] first run killed after ${Math.round(performance.now() - t0)} ms`);
    expect(r1.signal).toBe("SIGKILL");
    const afterKill1 = (await progress())!;
    expect(afterKill1.cases_stored).toBeGreaterThanOrEqual(atKill1.cases_stored);
    expect(afterKill1.cases_stored).toBeLessThan(CASES);
    expect((await frontendCopy(fe, jobId)).cases).toBe(afterKill1.cases_stored);

    // 2. restarted: continues from the stored case cursor, killed while copying the log
    const second = runTransferProcess(opts);
    await waitUntil("a few log ranges stored", 180_000, async () => {
      const p = await progress();
      return p && p.lines_stored >= 3 * LOG_CHUNK ? p : undefined;
    });
    second.child.kill("SIGKILL");
    const r2 = await second.done;
    console.log(`[huge-job] second run killed after ${Math.round(performance.now() - t0)} ms`);
    expect(r2.signal).toBe("SIGKILL");
    // it started at the case cursor the first run left, not at zero
    expect(r2.output).toContain(`starting at cases_after_id=${afterKill1.cases_after_id} log_line=0`);
    expect(afterKill1.cases_after_id).toBeGreaterThan(0);
    const afterKill2 = (await progress())!;
    expect(afterKill2.cases_stored).toBe(CASES);
    expect(afterKill2.lines_stored).toBeLessThan(LINES);

    // 3. restarted again: continues from the stored log line and completes
    const third = await runTransferProcess(opts).done;
    console.log(`[huge-job] third run done after ${Math.round(performance.now() - t0)} ms`);
    expect(third.code, third.output.slice(-2000)).toBe(0);
    expect(third.summary).toMatchObject({ done: true, casesInserted: 0 });
    expect(third.summary!.resumedFrom!.logNextLine).toBe(afterKill2.log_next_line);
    expect(third.summary!.resumedFrom!.logNextLine).toBeGreaterThan(0);
    expect(third.summary!.linesStored).toBe(LINES - afterKill2.lines_stored);

    const copy = await frontendCopy(fe, jobId);
    expect(copy).toMatchObject({
      cases: CASES,
      distinctCases: CASES,
      ...expectedRollup(CASES),
      lines: LINES,
      chunksContiguous: true,
      firstLineSeen: 0,
      lastLineSeen: LINES - 1,
      done: true,
    });
    expect((await progress())!.attempts).toBe(3);

    // 4. run once more (a re-delivered callback, a reconciliation): nothing is pulled or added
    const again = await runTransferProcess(opts).done;
    expect(again.code, again.output.slice(-2000)).toBe(0);
    expect(await frontendCopy(fe, jobId)).toEqual(copy);
  });
});
