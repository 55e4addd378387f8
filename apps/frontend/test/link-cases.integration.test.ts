/**
 * The test cases of a huge job pushed by an outbound-only lab over its link (issue 13 item 6),
 * through the real route handlers on a real database: the Finished callback with totals only opens
 * the job's transfer but no pull is queued or resumed (the frontend cannot reach the lab); pages are
 * stored only from the job's cursor, so repeated and overlapping pages store each case once and the
 * rollup counts stay exact; a wrong credential is refused; the last page completes the job and the
 * poll stops listing it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { listPendingTransfers } from "@magma/db/frontend";
import type { TLabCasesPage, TLabCasesPushResponse, TLabWork } from "@magma/protocol";
import { notifyPayload, setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let credential = "";
const JOB = 41;
const TOTAL = 12_000;

const params = { params: Promise.resolve({ lab: "lab-o" }) };

const pushCases = async (pages: TLabCasesPage[], token = credential) => {
  const { POST } = await import("../src/app/api/federation/labs/[lab]/cases/route.ts");
  return POST(
    new Request("http://127.0.0.1:3000/api/federation/labs/lab-o/cases", {
      method: "POST",
      headers: { authorization: `Token ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ pages }),
    }),
    params,
  );
};

const poll = async (): Promise<TLabWork> => {
  const { GET } = await import("../src/app/api/federation/labs/[lab]/poll/route.ts");
  const res = await GET(
    new Request("http://127.0.0.1:3000/api/federation/labs/lab-o/poll?wait=0", { headers: { authorization: `Token ${credential}` } }),
    params,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as TLabWork;
};

/** Cases with ids (after, through], as the lab's results export; every 10th fails. */
const cases = (after: number, through: number) =>
  Array.from({ length: through - after }, (_, i) => {
    const id = after + i + 1;
    return {
      id: String(id),
      job: String(JOB),
      level: "",
      log_end_line: "",
      log_start_line: "",
      logged: "2026-12-01 00:00:00.000000+00:00",
      measurement: "None",
      metadata: {},
      name: `case-${id}`,
      result: id % 10 === 0 ? "fail" : "pass",
      suite: "0_big",
      unit: "",
      url: `/results/testcase/${id}`,
    };
  });

const page = (after: number | null, through: number, last = false): TLabCasesPage => ({
  job_id: JOB,
  after_id: after,
  results: after === null ? [] : cases(after, through),
  next_after_id: last ? null : through,
});

const push = async (p: TLabCasesPage) => {
  const res = await pushCases([p]);
  expect(res.status).toBe(200);
  return ((await res.json()) as TLabCasesPushResponse).jobs[0]!;
};

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  const { enrollLab, redeemEnrollment } = await import("../src/server/services/labs.ts");
  credential = (await redeemEnrollment(db(), (await enrollLab(db(), "lab-o")).token)).credential;
});

afterAll(async () => {
  await envCtl?.cleanup();
});

describe("cases pushed by an outbound lab", () => {
  it("are unknown until the Finished callback, then stored once from the cursor until complete", async () => {
    const { db } = await import("../src/server/db.ts");
    const { ingestCallback } = await import("../src/server/services/ingest-callback.ts");

    // before the Finished callback: nothing is waited for
    expect(await push(page(0, 1000))).toEqual({ job_id: JOB, known: false, after_id: 0, done: false });

    const payload = notifyPayload({ id: JOB, submitter_username: "alice" }, 0);
    payload.results = {};
    payload.magma = { ...payload.magma!, instance: "lab-o", transfer: { test_cases: TOTAL, log_lines: 0, results_inline: false } };
    const r = await ingestCallback({
      db: db(),
      job: { instance: "lab-o", receivedAt: new Date().toISOString(), payload },
      log: pino({ level: "silent" }),
    });
    // the frontend does not try to pull from the outbound lab
    expect(r.transfer).toBe(false);
    expect((await listPendingTransfers(db())).map((t) => t.remoteId)).not.toContain(JOB);
    expect((await poll()).cases).toEqual([{ job_id: JOB, after_id: 0 }]);

    // an ask, then pages; a page re-sent (lost answer) and one overlapping the cursor store nothing
    expect(await push(page(null, 0))).toEqual({ job_id: JOB, known: true, after_id: 0, done: false });
    expect(await push(page(0, 5000))).toMatchObject({ known: true, after_id: 5000, done: false });
    expect(await push(page(0, 5000))).toMatchObject({ after_id: 5000, done: false });
    expect(await push(page(2500, 7500))).toMatchObject({ after_id: 5000, done: false });
    // several pages of one job in one push are applied in order
    const res = await pushCases([page(5000, 10_000), page(10_000, 12_000)]);
    expect(((await res.json()) as TLabCasesPushResponse).jobs).toEqual([{ job_id: JOB, known: true, after_id: 12_000, done: false }]);
    expect((await poll()).cases).toEqual([{ job_id: JOB, after_id: 12_000 }]);

    // a wrong credential stores nothing
    const refused = await pushCases([page(12_000, 12_000, true)], "not-the-credential-of-lab-o");
    expect(refused.status).toBe(403);

    // the last (empty) page completes the job; pages after it change nothing
    expect(await push(page(12_000, 12_000, true))).toEqual({ job_id: JOB, known: true, after_id: 12_000, done: true });
    expect(await push(page(0, 10))).toEqual({ job_id: JOB, known: true, after_id: 12_000, done: true });
    expect((await poll()).cases).toEqual([]);

    const job = await db().federatedJob.findFirstOrThrow({ where: { remote_id: JOB, instance: { name: "lab-o" } } });
    expect(await db().federatedTestCase.count({ where: { job_id: job.id } })).toBe(TOTAL);
    expect({ pass: job.pass_count, fail: job.fail_count }).toEqual({ pass: TOTAL - TOTAL / 10, fail: TOTAL / 10 });
    const t = await db().jobTransfer.findUniqueOrThrow({ where: { job_id: job.id } });
    expect(t.cases_stored).toBe(TOTAL);
    expect(t.done_at).not.toBeNull();
  }, 120_000);

  it("names a bad field of a push", async () => {
    const res = await pushCases([{ job_id: JOB, after_id: 0, results: [], next_after_id: -1 } as TLabCasesPage]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("pages.0.next_after_id");
  });
});
