/**
 * LinkLogPusher on a real instance database, against a frontend stand-in that keeps a resume point
 * per job exactly as the frontend's storeLinkLogChunk does (skip what it has, refuse a chunk past
 * it, `end` marks the log done): answers lost after the lines were stored and a pusher restarted
 * mid-log still leave every line stored once, in order. (The real frontend side is covered by
 * apps/frontend/test/job-cancel-and-link-logs.integration.test.ts and outbound-lab.integration.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertUser } from "@magma/db/instance";
import type { TLabLogChunk, TLabLogPushResponse, TLogLine } from "@magma/protocol";
import { jobYaml, startHarness, waitUntil, type Harness } from "../testing/harness.ts";
import { linkFrontendStandIn } from "../testing/link-frontend.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { ingestLogs } from "../logs/ingest-logs.ts";
import { LinkLogPusher } from "./link-log-pusher.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** The frontend's side of the link: stored lines per job, the resume point, done. */
function frontendStandIn() {
  const stored = new Map<number, TLogLine[]>();
  const done = new Set<number>();
  const link = linkFrontendStandIn((chunks: TLabLogChunk[]): TLabLogPushResponse => {
    const jobs = chunks.map((c) => {
      const have = stored.get(c.job_id) ?? [];
      stored.set(c.job_id, have);
      if (!done.has(c.job_id) && c.first_line <= have.length) have.push(...c.lines.slice(have.length - c.first_line));
      if (c.end !== undefined && have.length >= c.end) done.add(c.job_id);
      return { job_id: c.job_id, known: true, next_line: have.length, done: done.has(c.job_id) };
    });
    return { jobs };
  });
  return Object.assign(link, { stored, done });
}

const record = (i: number) => ({ dt: "2026-12-01T00:00:00.000000", lvl: "target" as const, msg: `line ${i}` });

describe("LinkLogPusher", () => {
  it("pushes a running job's log exactly once across lost answers and a restart, then marks it done when Finished", async () => {
    const ctx = h.app.ctx;
    const user = await upsertUser(ctx.db, "admin");
    const { jobIds } = await submitJob({ ctx, submitter: user, text: jobYaml({ name: "pushed" }) });
    const jobId = jobIds[0]!;
    await ctx.db.testJob.update({ where: { id: jobId }, data: { state: "Running" } });
    const frontend = frontendStandIn();

    await ingestLogs({ ctx, jobId, index: 0, lines: Array.from({ length: 2500 }, (_, i) => record(i)) });
    const first = new LinkLogPusher(ctx, frontend.post);
    frontend.loseNext(2);
    first.start();
    await waitUntil(() => frontend.stored.get(jobId)?.length === 2500, 30_000, "the first 2500 lines");
    await first.stop();

    // more lines while no pusher runs; a new one (a restarted lab) resumes from the frontend's answer
    await ingestLogs({ ctx, jobId, index: 2500, lines: Array.from({ length: 700 }, (_, i) => record(2500 + i)) });
    await ctx.db.testJob.update({ where: { id: jobId }, data: { state: "Finished", health: "Complete", endTime: new Date() } });
    const second = new LinkLogPusher(ctx, frontend.post);
    frontend.loseNext(1);
    second.start();
    await waitUntil(() => frontend.done.has(jobId), 30_000, "the log to be complete");
    await second.stop();

    const lines = frontend.stored.get(jobId)!;
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 3200 }, (_, i) => i));
    expect(lines.map((l) => l.msg)).toEqual(Array.from({ length: 3200 }, (_, i) => `line ${i}`));
    // no chunk over the limit: 3200 lines need at least 4 pushes
    expect(frontend.pushes).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
