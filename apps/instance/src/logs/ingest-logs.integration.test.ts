import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertUser } from "@magma/db/instance";
import type { TLogRecord } from "@magma/protocol";
import { jobYaml, startHarness, type Harness } from "../testing/harness.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { ingestLogs } from "./ingest-logs.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const line = (i: number): TLogRecord => ({ dt: "2026-12-02T10:00:00.000000", lvl: "target", msg: `line ${i}` });
const result = (suite: string, name: string, extra: Record<string, unknown> = {}): TLogRecord => ({
  dt: "2026-12-02T10:00:00.000000",
  lvl: "results",
  msg: { definition: suite, case: name, result: "pass", ...extra },
});

describe("ingestLogs: test cases across batches", () => {
  it("reuses a job's suites in later batches, stores each case once, and keeps measurements exact", async () => {
    const ctx = h.app.ctx;
    const user = await upsertUser(ctx.db, "admin");
    const [jobId] = (await submitJob({ ctx, submitter: user, text: jobYaml({ name: "cases" }) })).jobIds as [number];
    const first = [line(0), result("0_smoke", "a"), result("1_net", "b", { measurement: "12.3456789012345", units: "ms" }), line(3)];
    expect(await ingestLogs({ ctx, jobId, index: 0, lines: first })).toEqual({ line_count: 4, stored: 4 });
    // a later batch: one suite seen before, one new; then the same batch again (a replay)
    const second = [result("0_smoke", "c", { set: "s1" }), result("2_new", "d", { result: "fail" }), line(6)];
    expect(await ingestLogs({ ctx, jobId, index: 4, lines: second })).toEqual({ line_count: 3, stored: 3 });
    expect(await ingestLogs({ ctx, jobId, index: 4, lines: second })).toEqual({ line_count: 3, stored: 0 });

    const suites = await ctx.db.testSuite.findMany({ where: { jobId }, orderBy: { name: "asc" }, include: { cases: true } });
    expect(suites.map((s) => [s.name, s.cases.map((c) => c.name).sort()])).toEqual([
      ["0_smoke", ["a", "c"]],
      ["1_net", ["b"]],
      ["2_new", ["d"]],
    ]);
    const cases = await ctx.db.testCase.findMany({ where: { jobId }, orderBy: { logLineIndex: "asc" } });
    expect(cases.map((c) => [c.logLineIndex, c.result, c.testSet])).toEqual([
      [1, "pass", null],
      [2, "pass", null],
      [4, "pass", "s1"],
      [5, "fail", null],
    ]);
    const b = cases.find((c) => c.name === "b")!;
    // numeric(30,10), as the column rounds it
    expect([b.measurement?.toString(), b.units]).toEqual(["12.3456789012", "ms"]);
    expect(b.metadata).toMatchObject({ definition: "1_net", case: "b", measurement: "12.3456789012345" });
    expect((await ctx.db.testJob.findUniqueOrThrow({ where: { id: jobId } })).logLineCount).toBe(7);
  });

  it("refuses a batch for a job that does not exist", async () => {
    await expect(ingestLogs({ ctx: h.app.ctx, jobId: 987_654, index: 0, lines: [line(0)] })).rejects.toThrow("Job 987654 not found");
  });
});
