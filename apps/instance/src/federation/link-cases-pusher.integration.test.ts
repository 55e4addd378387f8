/**
 * LinkCasesPusher on a real instance database, against a frontend stand-in that keeps a case cursor
 * per job exactly as the frontend's storeLinkCasesPage does (a page is stored only when it starts at
 * the cursor; `next_after_id` null completes the job; a job without a Finished callback yet is
 * unknown): a 12 000-case job, answers lost after the page was stored, the Finished callback
 * arriving late and a pusher restarted mid-job still store every case once, in id order. (The real
 * frontend side is covered by apps/frontend/test/link-cases.integration.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertUser } from "@magma/db/instance";
import { FEDERATION_INLINE_CASES, ZLabCasesPushRequest, type TLabCasesPage, type TLabCasesPushResponse } from "@magma/protocol";
import { jobYaml, startHarness, waitUntil, type Harness } from "../testing/harness.ts";
import { linkFrontendStandIn } from "../testing/link-frontend.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { LinkCasesPusher } from "./link-cases-pusher.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** The frontend's side: per job whose Finished callback arrived (`open`), the cursor, the applied case ids, done. */
function frontendStandIn() {
  const transfers = new Map<number, { after: number; done: boolean; applied: number[] }>();
  const pushedJobs = new Set<number>();
  const link = linkFrontendStandIn((pages: TLabCasesPage[]): TLabCasesPushResponse => {
    ZLabCasesPushRequest.parse({ pages });
    const jobs = pages.map((p) => {
      pushedJobs.add(p.job_id);
      const t = transfers.get(p.job_id);
      if (!t) return { job_id: p.job_id, known: false, after_id: 0, done: false };
      if (p.after_id !== null && !t.done && t.after === p.after_id) {
        t.applied.push(...p.results.map((r) => Number(r["id"])));
        t.after = p.next_after_id ?? p.after_id;
        t.done = p.next_after_id === null;
      }
      return { job_id: p.job_id, known: true, after_id: t.after, done: t.done };
    });
    return { jobs };
  });
  return Object.assign(link, {
    transfers,
    pushedJobs,
    open(jobId: number) {
      transfers.set(jobId, { after: 0, done: false, applied: [] });
    },
  });
}

/** A Finished job with `count` cases inserted directly, ended at `endTime`; returns its id and case ids. */
async function finishedJob(name: string, count: number, endTime: Date): Promise<{ id: number; caseIds: number[] }> {
  const ctx = h.app.ctx;
  const user = await upsertUser(ctx.db, "admin");
  const { jobIds } = await submitJob({ ctx, submitter: user, text: jobYaml({ name }) });
  const id = jobIds[0]!;
  await ctx.db.testJob.update({ where: { id }, data: { state: "Finished", health: "Complete", endTime } });
  const suite = await ctx.db.testSuite.create({ data: { jobId: id, name: "0_big" } });
  const data = Array.from({ length: count }, (_, c) => ({
    jobId: id,
    suiteId: suite.id,
    name: `case-${c}`,
    result: "pass" as const,
    logLineIndex: c,
  }));
  // one INSERT per 4 000 rows, in turn: a createMany over Prisma's bind-value limit is split into
  // INSERTs that run concurrently on one pg client (deprecated in pg 8)
  for (let i = 0; i < data.length; i += 4000) await ctx.db.testCase.createMany({ data: data.slice(i, i + 4000) });
  const rows = await ctx.db.testCase.findMany({ where: { jobId: id }, select: { id: true }, orderBy: { id: "asc" } });
  return { id, caseIds: rows.map((r) => r.id) };
}

describe("LinkCasesPusher", () => {
  it("pushes a huge Finished job's cases exactly once in pages across a late callback, lost answers and a restart", async () => {
    const ctx = h.app.ctx;
    const big = await finishedJob("huge", 12_000, new Date());
    const small = await finishedJob("small", FEDERATION_INLINE_CASES, new Date());
    // finished long before the lab started: only the poll's list brings it back
    const old = await finishedJob("old", 2500, new Date(Date.now() - 3 * 60 * 60 * 1000));
    const frontend = frontendStandIn();

    const first = new LinkCasesPusher(ctx, frontend.post);
    first.start();
    // the Finished callback has not arrived: the pusher asks, is told the job is unknown, asks again later
    await waitUntil(() => frontend.pushedJobs.has(big.id), 45_000, "the first ask about the huge job");
    frontend.open(big.id);
    frontend.loseNext(2);
    await waitUntil(() => (frontend.transfers.get(big.id)?.applied.length ?? 0) >= 4000, 45_000, "some pages of the huge job");
    await first.stop();
    expect(frontend.transfers.get(big.id)!.done).toBe(false);

    // a restarted lab: finds the job again, asks where to resume, goes on from the frontend's cursor
    const second = new LinkCasesPusher(ctx, frontend.post);
    frontend.open(old.id);
    second.want([{ job_id: old.id, after_id: 0 }]);
    frontend.loseNext(1);
    second.start();
    await waitUntil(() => frontend.transfers.get(big.id)?.done && frontend.transfers.get(old.id)?.done, 45_000, "both jobs complete");
    await second.stop();

    expect(frontend.transfers.get(big.id)!.applied).toEqual(big.caseIds);
    expect(frontend.transfers.get(old.id)!.applied).toEqual(old.caseIds);
    // a job whose Finished callback carried its cases inline is never pushed
    expect(frontend.pushedJobs.has(small.id)).toBe(false);
    // bounded pages: 12 000 + 2 500 cases need at least 8 pages of 2 000 (4 pages per push at most)
    expect(frontend.pushes).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
