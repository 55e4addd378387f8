/**
 * Live results (issue 13): while a job runs, the test cases it records reach the federation
 * callback URL through the durable outbox, in pushes that never overlap and together cover every
 * case in id order; the Finished callback still sizes or carries every case.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FEDERATION_INLINE_CASES, ZNotifyPayload, ZNotifyTestCase, ZPingResponse, type TNotifyPayload } from "@magma/protocol";
import { startReceiver } from "../testing/receiver.ts";
import { jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";
import { LIVE_RESULTS_MAX_CASES, queueLiveResults } from "./live-results.ts";

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
/** while true, the receiver refuses live pushes (503) and accepts everything else */
let refuseLive = false;

beforeAll(async () => {
  rx = await startReceiver((r) => (refuseLive && JSON.parse(r.body || "{}").magma?.live_results ? 503 : 200));
  h = await startHarness({
    config: { federationCallbackUrl: `${rx.url}/federation/lab-a`, federationToken: "fed-secret", liveResultsIntervalMs: 100 },
  });
});
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

/** Federation callbacks of `jobId` the receiver accepted so far, parsed. */
function federationPayloads(jobId: number): TNotifyPayload[] {
  return rx.received
    .filter((r) => r.url === "/federation/lab-a" && r.status === 200)
    .map((r) => ZNotifyPayload.parse(JSON.parse(r.body)))
    .filter((p) => p.id === jobId);
}
const livePushes = (jobId: number) => federationPayloads(jobId).filter((p) => p.magma?.live_results);

/** Case ids of a payload's `results`, in order. */
function caseIds(p: TNotifyPayload): number[] {
  return Object.values(p.results ?? {})
    .flatMap((text) => parse(text) as unknown[])
    .map((c) => Number(ZNotifyTestCase.parse(c).id))
    .sort((a, b) => a - b);
}

function resultLines(from: number, n: number, definition = "0_live") {
  return Array.from({ length: n }, (_, i) => ({
    dt: "2026-11-23T06:55:16.000000",
    lvl: "results",
    msg: { case: `case-${from + i}`, definition, result: (from + i) % 3 === 1 ? "fail" : "pass" },
  }));
}

describe("live results of a Running job", () => {
  it("pushes the cases recorded so far while Running, each once, bounded, and Finished still sizes them all", async () => {
    const jobId = await submit(h, jobYaml({ name: "live" }));
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    let index = 0;
    const upload = async (lines: unknown[]) => {
      const r = await jobCall(h, "POST", `${jobId}/logs/`, token, { index, lines });
      expect(r.status).toBe(200);
      index += lines.length;
    };

    // first batch: two cases → one push of exactly those, the job still Running
    await upload([{ dt: "2026-11-23T06:55:15.000000", lvl: "info", msg: "start" }, ...resultLines(0, 2)]);
    const first = await waitUntil(() => livePushes(jobId)[0], 10_000, "the first live push");
    expect(first).toMatchObject({ state_string: "Running", health_string: "Unknown" });
    expect(first.magma!.live_results!.after).toBe(0);
    const firstIds = caseIds(first);
    expect(firstIds).toHaveLength(2);
    expect(first.magma!.live_results!.through).toBe(firstIds.at(-1));
    expect(first.magma!.transfer).toBeUndefined();

    // second batch: three more cases and a `lava` one → the next push carries only those four
    await upload([
      ...resultLines(2, 3),
      { dt: "2026-11-23T06:55:17.000000", lvl: "results", msg: { case: "job", definition: "lava", result: "pass" } },
    ]);
    const second = await waitUntil(() => livePushes(jobId)[1], 10_000, "the second live push");
    expect(second.magma!.live_results!.after).toBe(first.magma!.live_results!.through);
    expect(caseIds(second)).toHaveLength(4);
    expect(Object.keys(second.results!).sort()).toEqual(["0_live", "lava"]);

    // a batch bigger than one push: split at LIVE_RESULTS_MAX_CASES, the remainder follows
    await upload(resultLines(5, LIVE_RESULTS_MAX_CASES + 1));
    const pushes = await waitUntil(
      () => {
        const p = livePushes(jobId);
        return p.length === 4 ? p : null;
      },
      20_000,
      "the two pushes of the big batch",
    );
    expect(caseIds(pushes[2]!)).toHaveLength(LIVE_RESULTS_MAX_CASES);
    expect(caseIds(pushes[3]!)).toHaveLength(1);

    // together the pushes carry every case of the job once, in contiguous ranges
    const stored = (await h.db.testCase.findMany({ where: { jobId }, select: { id: true }, orderBy: { id: "asc" } })).map((c) => c.id);
    expect(stored).toHaveLength(2 + 4 + LIVE_RESULTS_MAX_CASES + 1);
    expect(pushes.flatMap(caseIds)).toEqual(stored);
    for (let i = 1; i < pushes.length; i++) expect(pushes[i]!.magma!.live_results!.after).toBe(pushes[i - 1]!.magma!.live_results!.through);
    const rows = await waitUntil(
      async () => {
        const r = await h.db.callbackOutbox.findMany({ where: { jobId, transition: { startsWith: "Results:" } }, orderBy: { id: "asc" } });
        return r.every((x) => x.state === "delivered") ? r : null;
      },
      10_000,
      "the live pushes marked delivered",
    );
    expect(rows.map((r) => r.transition)).toEqual(pushes.map((p) => `Results:${p.magma!.live_results!.through}`));
    expect(rows.every((r) => r.callbackIndex === -1 && r.attempts === 1)).toBe(true);
    // nothing new: a push now queues nothing
    expect(await queueLiveResults(h.app.ctx, jobId)).toEqual({ queued: false, more: false });

    // Finished: sizes every case (more than FEDERATION_INLINE_CASES: the frontend pages them); no push after it
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
    const finished = await waitUntil(
      () => federationPayloads(jobId).find((p) => p.state_string === "Finished"),
      10_000,
      "the Finished callback",
    );
    expect(stored.length).toBeGreaterThan(FEDERATION_INLINE_CASES);
    expect(finished.magma!.transfer).toMatchObject({ test_cases: stored.length, results_inline: false });
    expect(finished.magma!.live_results).toBeUndefined();
    await h.db.testCase.create({
      data: {
        jobId,
        suiteId: (await h.db.testSuite.findFirstOrThrow({ where: { jobId, name: "0_live" } })).id,
        name: "late",
        result: "pass",
        logLineIndex: 100_000,
      },
    });
    expect(await queueLiveResults(h.app.ctx, jobId)).toEqual({ queued: false, more: false });
  });

  it("pushes nothing for a job that records no case, and the Finished callback of a small job carries its cases inline", async () => {
    const jobId = await submit(h, jobYaml({ name: "quiet" }));
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 0, lines: [{ dt: "2026-11-23T06:55:15.000000", lvl: "info", msg: "x" }] });
    expect(await queueLiveResults(h.app.ctx, jobId)).toEqual({ queued: false, more: false });
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 1, lines: resultLines(0, 3) });
    await waitUntil(() => livePushes(jobId)[0], 10_000, "the live push");
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
    const finished = await waitUntil(
      () => federationPayloads(jobId).find((p) => p.state_string === "Finished"),
      10_000,
      "the Finished callback",
    );
    // the Finished callback is complete on its own: a receiver that missed the live pushes loses nothing
    expect(caseIds(finished)).toEqual(caseIds(livePushes(jobId)[0]!));
  });

  it("keeps one live push of a job in the outbox while the frontend refuses it; the next one carries what waited", async () => {
    const jobId = await submit(h, jobYaml({ name: "refused" }));
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    refuseLive = true;
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 0, lines: resultLines(0, 2) });
    const refused = await waitUntil(
      () => h.db.callbackOutbox.findFirst({ where: { jobId, transition: { startsWith: "Results:" }, attempts: { gte: 1 } } }),
      10_000,
      "a refused live push",
    );
    expect(refused.state).toBe("pending");
    // more cases while it waits: no second row, the pusher keeps trying
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 2, lines: resultLines(2, 3) });
    expect(await queueLiveResults(h.app.ctx, jobId)).toEqual({ queued: false, more: true });
    expect(await h.db.callbackOutbox.count({ where: { jobId, transition: { startsWith: "Results:" } } })).toBe(1);
    // the frontend accepts again: the waiting push is delivered (with its retry), then the next one carries the rest
    refuseLive = false;
    const pushes = await waitUntil(
      () => {
        const p = livePushes(jobId);
        return p.length === 2 ? p : null;
      },
      30_000,
      "the waiting push and the next one",
    );
    expect(caseIds(pushes[0]!)).toHaveLength(2);
    expect(pushes[1]!.magma!.live_results!.after).toBe(pushes[0]!.magma!.live_results!.through);
    expect(caseIds(pushes[1]!)).toHaveLength(3);
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
  });
});
