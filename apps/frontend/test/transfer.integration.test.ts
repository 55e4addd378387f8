import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { findJobTransfer, upsertInstances, type TInstanceRecord } from "@magma/db/frontend";
import { fakeLab, json, notifyPayload, setupTestEnv, waitFor } from "./helpers.ts";

/**
 * Huge jobs through the frontend's queues: a Finished callback that says its cases did not travel
 * inline (`magma.transfer.results_inline: false`) is ingested by the callback consumer, which queues
 * the job's transfer; the `magma-transfers` consumer pulls the cases by keyset pages and the log by
 * line ranges from the lab (a fake lab API here; the real instance is in tests/faults/huge-job.test.ts).
 * A consumer closed mid-transfer and started again continues from the stored cursor.
 */
const CASES = 3500;
const LINES = 25_000;
let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lab: Awaited<ReturnType<typeof fakeLab>>;
let record: TInstanceRecord;
const casePages: number[] = [];
const logRanges: number[] = [];
let slow = false;

beforeAll(async () => {
  envCtl = await setupTestEnv();
  lab = await fakeLab((req, _body, res) => {
    const u = new URL(req.url ?? "/", "http://lab");
    const answer = (status: number, body: unknown) => (slow ? setTimeout(() => json(res, status, body), 150) : json(res, status, body));
    if (u.pathname === "/api/v0.2/magma/jobs/7/cases/") {
      const after = Number(u.searchParams.get("after_id"));
      const limit = Number(u.searchParams.get("limit"));
      casePages.push(after);
      const ids = Array.from({ length: CASES }, (_, k) => 1000 + k)
        .filter((id) => id > after)
        .slice(0, limit);
      const results = ids.map((id) => ({
        id: String(id),
        job: "7",
        name: `case-${id}`,
        suite: "0_big",
        result: id % 10 ? "pass" : "fail",
        measurement: "None",
        unit: "",
      }));
      return answer(200, { results, next_after_id: ids.length === limit ? ids.at(-1) : null });
    }
    if (u.pathname === "/api/v0.2/jobs/7/logs/") {
      const start = Number(u.searchParams.get("start"));
      const end = Math.min(Number(u.searchParams.get("end")), LINES);
      logRanges.push(start);
      return answer(
        200,
        Array.from({ length: Math.max(0, end - start) }, (_, i) => ({
          line: start + i,
          dt: "2026-12-01T00:00:00",
          lvl: "target",
          msg: `line ${start + i}`,
        })),
      );
    }
    return json(res, 404, { message: "not found" });
  });
  const { db } = await import("../src/server/db.ts");
  record = (await upsertInstances(db(), [{ name: "lab-a", url: lab.url, api_token: "api-a", callback_token: "secret-a-123" }]))[0]!;
});
afterAll(async () => {
  await lab?.close();
  await envCtl?.cleanup();
});

describe("the magma-transfers consumer", () => {
  it("pulls a huge job's cases and log after its callback, resumes after a restart, and stores each exactly once", async () => {
    const { db } = await import("../src/server/db.ts");
    const log = pino({ level: "silent" });
    const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
    const { startTransferConsumer, resumePendingTransfers } = await import("../src/server/queues/transfer-consumer.ts");
    const { addJobOrFail } = await import("../src/server/queues/connections.ts");
    const payload = notifyPayload({ id: 7 }, 0);
    delete payload.results;
    payload.magma = { ...payload.magma!, transfer: { test_cases: CASES, log_lines: LINES, results_inline: false } };
    await addJobOrFail("magma-callbacks", "notify", { instance: "lab-a", receivedAt: new Date().toISOString(), payload }, "notify-lab-a-7");
    const callbacks = startCallbackConsumer({ db: db(), prefix: envCtl.prefix, log });

    slow = true; // slow enough to stop the consumer mid-transfer
    let transfers = startTransferConsumer({
      db: db(),
      prefix: envCtl.prefix,
      log,
      timeoutMs: 5000,
      casesPageSize: 500,
      logChunkLines: 5000,
    });
    const mid = await waitFor(
      async () => {
        const t = await findJobTransfer(db(), record.id, 7);
        return t && t.casesStored >= 1000 ? t : null;
      },
      30_000,
      "a few pages stored",
    );
    await transfers.close();
    const stopped = (await findJobTransfer(db(), record.id, 7))!;
    expect(stopped.casesDone).toBe(false);
    expect(stopped.casesStored).toBeGreaterThanOrEqual(mid.casesStored);
    const pagesBefore = casePages.length;

    // a restarted frontend queues the unfinished transfer again and continues from the cursor
    slow = false;
    transfers = startTransferConsumer({ db: db(), prefix: envCtl.prefix, log, timeoutMs: 5000, casesPageSize: 500, logChunkLines: 5000 });
    expect(await resumePendingTransfers(db(), log)).toBe(1);
    const done = await waitFor(
      async () => {
        const t = await findJobTransfer(db(), record.id, 7);
        return t?.doneAt ? t : null;
      },
      30_000,
      "the transfer done",
    );
    await transfers.close();
    await callbacks.close();

    expect(casePages[pagesBefore]).toBe(stopped.casesAfterId);
    expect(done).toMatchObject({ casesStored: CASES, linesStored: LINES, casesDone: true, logDone: true });
    const cases = await db().federatedTestCase.count({ where: { remote_job_id: 7 } });
    expect(cases).toBe(CASES);
    const job = await db().federatedJob.findFirstOrThrow({ where: { remote_id: 7 } });
    expect(job).toMatchObject({ state: "Finished", pass_count: CASES - 350, fail_count: 350 });
    const chunks = await db().federatedLogChunk.findMany({ where: { job_id: job.id }, orderBy: { first_line: "asc" } });
    expect(chunks.map((c) => c.first_line)).toEqual([0, 5000, 10000, 15000, 20000]);
    expect(chunks.reduce((s, c) => s + c.line_count, 0)).toBe(LINES);
    expect(JSON.parse(chunks[1]!.text.split("\n")[0]!)).toMatchObject({ line: 5000, msg: "line 5000" });
    expect(logRanges.filter((s) => s === 0)).toHaveLength(1);
  });
});
