import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getFederatedJob,
  ingestFederatedJobs,
  listBuilds,
  listRegressions,
  testHistory,
  upsertInstances,
  buildOrderKey,
  type TRegressionFilter,
} from "@magma/db/frontend";
import { DEFAULT_BUILD_KEYS, buildFromMetadata } from "@magma/protocol";
import pino from "pino";
import { setupTestEnv } from "./helpers.ts";
import { commitSha, historyJobs, historyPayload, type TCase, type THistoryJob } from "./build-history.ts";

/**
 * Builds, regressions and fixes computed at ingest (issue 12 items 1–2), on real PostgreSQL through
 * the callback ingest service: code-vs-lab suspects, fixes, flaky exclusion, infrastructure failures
 * not counted, out-of-order, duplicated and concurrent delivery all give the same stored result.
 */
const log = pino({ level: "silent" });
let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
type Ingest = typeof import("../src/server/services/ingest-callback.ts");
let ingest: Ingest;
const db = async () => (await import("../src/server/db.ts")).db();

const OFFSETS: Record<string, number> = {
  mainline: 0,
  "late-tree": 1000,
  reversed: 2000,
  concurrent: 3000,
  race: 0,
  backfill: 6000,
  batched: 7000,
};
async function deliver(j: THistoryJob, tree: string) {
  return ingest.ingestCallback({
    db: await db(),
    job: { instance: j.lab, receivedAt: new Date().toISOString(), payload: historyPayload(j, tree, OFFSETS[tree]) },
    log,
  });
}

/** Regressions of a tree as comparable lines `kind test from→to suspect labs`. */
async function regressionLines(tree: string, extra: Partial<TRegressionFilter> = {}) {
  const page = await listRegressions(await db(), { tree, branch: "master", ...extra }, 1000, null);
  return page.results
    .map(
      (r) =>
        `${r.kind} ${r.test} ${r.from_commit.slice(0, 1)}→${r.to_commit.slice(0, 1)} ${r.suspect} ${r.labs.join(",")} jobs=${r.jobs.map((x) => `${x.lab}#${x.id % 1000}`).join(",")}`,
    )
    .sort();
}

const EXPECTED = [
  "fix 0_smoke.code-break 4→5 unknown lab-b jobs=lab-b#206",
  "fix 0_smoke.fixed 2→3 code lab-a,lab-b jobs=lab-a#105,lab-b#204",
  "regression 0_smoke.code-break 1→2 code lab-a,lab-b jobs=lab-a#102,lab-b#202",
  "regression 0_smoke.lab-a-only 1→2 unknown lab-a jobs=lab-a#102",
  "regression 0_smoke.lab-break 1→2 lab lab-a jobs=lab-a#102",
  "regression 0_smoke.late 1→2 unknown lab-a jobs=lab-a#104",
  "regression 1_boot.mount.s1 2→3 code lab-a,lab-b jobs=lab-a#105,lab-b#204",
].sort();

beforeAll(async () => {
  envCtl = await setupTestEnv();
  await upsertInstances(await db(), [
    { name: "lab-a", url: "http://127.0.0.1:9", api_token: "api-a", callback_token: "secret-a-123" },
    { name: "lab-b", url: "http://127.0.0.1:9", api_token: "api-b", callback_token: "secret-b-123" },
  ]);
  ingest = await import("../src/server/services/ingest-callback.ts");
});
afterAll(async () => {
  await envCtl?.cleanup();
});

describe("build model", () => {
  it("reads KernelCI's keys with fallbacks, and a configured mapping", () => {
    expect(
      buildFromMetadata({ "kernel.tree": "next", "kernel.branch": "master", "kernel.commit": "abc", "kernel.version": "6.8" }),
    ).toEqual({
      tree: "next",
      branch: "master",
      commit: "abc",
      describe: null,
      url: null,
      kernelVersion: "6.8",
    });
    expect(buildFromMetadata({ "kernel.tree": "next", "git.branch": "b", "kernel.branch": "x", "git.commit": "c" })?.branch).toBe("b");
    expect(buildFromMetadata({ "kernel.tree": "next", "git.branch": "b" })).toBeNull();
    expect(
      buildFromMetadata(
        { tree_name: "t", branch: "b", sha: "s" },
        { ...DEFAULT_BUILD_KEYS, tree: ["tree_name"], branch: ["branch"], commit: ["sha"] },
      )?.commit,
    ).toBe("s");
  });

  it("orders by git describe naturally (rc before release, commits since tag), else by first-seen time", () => {
    const t = new Date();
    const keys = ["v6.7-rc1", "v6.7-rc1-3-gabc", "v6.7-rc2", "v6.7", "v6.7-12-g0123abc", "v6.10-rc1", "v6.10"].map((d) =>
      buildOrderKey(d, t),
    );
    expect([...keys].sort()).toEqual(keys);
    expect(buildOrderKey(null, new Date("2026-01-02T00:00:00Z")) > buildOrderKey(null, new Date("2026-01-01T00:00:00Z"))).toBe(true);
  });
});

describe("regressions and fixes at ingest", () => {
  it("in-order delivery (the late job last): code/lab/unknown suspects, fixes, flaky and infrastructure excluded", async () => {
    const jobs = historyJobs();
    for (const j of [...jobs.filter((x) => !x.late), ...jobs.filter((x) => x.late)]) await deliver(j, "mainline");
    expect(await regressionLines("mainline")).toEqual(EXPECTED);
    // filters
    expect(await regressionLines("mainline", { suspect: "code", kind: "regression" })).toEqual([
      "regression 0_smoke.code-break 1→2 code lab-a,lab-b jobs=lab-a#102,lab-b#202",
      "regression 1_boot.mount.s1 2→3 code lab-a,lab-b jobs=lab-a#105,lab-b#204",
    ]);
    expect((await regressionLines("mainline", { commit: commitSha(3) })).length).toBe(2);
    expect((await regressionLines("mainline", { lab: "lab-b", kind: "fix" })).length).toBe(2);
  });

  it("before the late job arrives the regression is on the next build; its arrival moves it back", async () => {
    const jobs = historyJobs();
    for (const j of jobs.filter((x) => !x.late)) await deliver(j, "late-tree");
    const before = await regressionLines("late-tree", { test: "0_smoke.late" });
    expect(before).toEqual(["regression 0_smoke.late 1→3 unknown lab-a jobs=lab-a#105"]);
    await deliver(
      jobs.find((x) => x.late)!,
      "late-tree",
    );
    expect(await regressionLines("late-tree", { test: "0_smoke.late" })).toEqual([
      "regression 0_smoke.late 1→2 unknown lab-a jobs=lab-a#104",
    ]);
  });

  it("reversed and duplicated delivery gives the same result", async () => {
    const jobs = historyJobs().reverse();
    for (const j of jobs) await deliver(j, "reversed");
    for (const j of [...jobs].reverse()) await deliver(j, "reversed");
    expect(await regressionLines("reversed")).toEqual(EXPECTED);
    const r = await deliver(historyJobs()[0]!, "reversed");
    expect(r.casesInserted).toBe(0);
  });

  it("concurrent delivery (4 at a time, shuffled, each twice) gives the same result", async () => {
    const list = [...historyJobs(), ...historyJobs()];
    // deterministic shuffle
    for (let i = list.length - 1; i > 0; i--) {
      const k = (i * 7 + 3) % (i + 1);
      [list[i], list[k]] = [list[k]!, list[i]!];
    }
    const queue = [...list];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let j = queue.shift(); j; j = queue.shift()) await deliver(j, "concurrent");
      }),
    );
    expect(await regressionLines("concurrent")).toEqual(EXPECTED);
  });

  it("batched delivery (the consumer's group commit: 5 callbacks per transaction, 2 at a time, each twice) gives the same result", async () => {
    const list = [...historyJobs(), ...historyJobs().reverse()];
    const prepared = await Promise.all(
      list.map(async (j) =>
        ingest.prepareCallback({
          db: await db(),
          job: { instance: j.lab, receivedAt: new Date().toISOString(), payload: historyPayload(j, "batched", OFFSETS["batched"]) },
          log,
        }),
      ),
    );
    const batches = Array.from({ length: Math.ceil(prepared.length / 5) }, (_, i) => prepared.slice(i * 5, i * 5 + 5));
    const results = (
      await Promise.all(
        Array.from({ length: 2 }, async () => {
          const out = [];
          for (let b = batches.shift(); b; b = batches.shift())
            out.push(
              ...(await ingestFederatedJobs(
                await db(),
                b.map((p) => p.input),
              )),
            );
          return out;
        }),
      )
    ).flat();
    expect(await regressionLines("batched")).toEqual(EXPECTED);
    // every case stored once: the second delivery of each job inserted nothing
    const cases = historyJobs().reduce((n, j) => n + j.cases.length + 1, 0);
    expect(results.reduce((n, r) => n + r.casesInserted, 0)).toBe(cases);
  });

  it("a batch holding a job's Finished, then a late Running, then Finished again keeps it Finished (monotonic)", async () => {
    const j = historyJobs()[0]!;
    const finished = historyPayload(j, "batched-state", 8000);
    const running = { ...finished, state: 3, state_string: "Running", health: 0, health_string: "Unknown", results: {} };
    const prepare = async (payload: typeof finished) =>
      (await ingest.prepareCallback({ db: await db(), job: { instance: j.lab, receivedAt: new Date().toISOString(), payload }, log }))
        .input;
    const r = await ingestFederatedJobs(await db(), [await prepare(finished), await prepare(running), await prepare(finished)]);
    expect(r.map((x) => ({ created: x.created, stale: x.stale }))).toEqual([
      { created: true, stale: false },
      { created: false, stale: true },
      { created: false, stale: false },
    ]);
    expect(r[0]!.casesInserted).toBe(j.cases.length + 1);
    expect(r[2]!.casesInserted).toBe(0);
    const stored = await getFederatedJob(await db(), null, j.lab, finished.id);
    expect(stored).toMatchObject({ state: "Finished" });
  });

  it("jobs of neighbouring builds and both labs ingested at the same moment all count (branch lock)", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `t${i}`);
    const jobs = [1, 2, 3, 4, 5, 6].flatMap((c) => {
      const cases = names.map((n): TCase => ["0_smoke", n, c % 2 ? "pass" : "fail"]);
      return [
        { lab: "lab-a", id: 4000 + c, commit: c, cases },
        { lab: "lab-b", id: 5000 + c, commit: c, cases },
      ] satisfies THistoryJob[];
    });
    await Promise.all(jobs.map((j) => deliver(j, "race")));
    const rows = (await listRegressions(await db(), { tree: "race", branch: "master" }, 1000, null)).results;
    expect(rows.length).toBe(5 * names.length);
    expect(
      rows.filter(
        (r) => r.suspect !== "code" || r.labs.join(",") !== "lab-a,lab-b" || Number(r.to_commit[0]) !== Number(r.from_commit[0]) + 1,
      ),
    ).toEqual([]);
  });

  it("builds: newest first with per-lab jobs, counts, infrastructure failures, regressions and fixes", async () => {
    const page = await listBuilds(await db(), { tree: "mainline", branch: "master" }, 10, null);
    expect(page.results.map((b) => b.commit)).toEqual([5, 4, 3, 2, 1].map(commitSha));
    const c2 = page.results[3]!;
    expect(c2).toMatchObject({
      jobs: 5,
      regressions: 4,
      fixes: 0,
      kernel_version: "6.2.0",
      url: "https://git.kernel.org/torvalds/linux.git",
    });
    const b = c2.labs.find((l) => l.lab === "lab-b")!;
    expect(b).toMatchObject({ jobs: 2, infrastructure_failures: 1, regressions: 1, pass: 3, fail: 2 });
    expect(c2.labs.find((l) => l.lab === "lab-a")).toMatchObject({ jobs: 3, infrastructure_failures: 0, regressions: 4 });
    const p1 = await listBuilds(await db(), { tree: "mainline", branch: "master" }, 2, null);
    const p2 = await listBuilds(await db(), { tree: "mainline", branch: "master" }, 2, p1.nextCursor);
    expect([...p1.results, ...p2.results].map((x) => x.commit)).toEqual([5, 4, 3, 2].map(commitSha));
  });

  it("test history: per build and lab, flaky marked", async () => {
    const h = await testHistory(await db(), { test: "0_smoke.flaky", tree: "mainline", branch: "master" }, 10, null);
    expect(h.results.map((r) => r.commit)).toEqual([3, 2, 1].map(commitSha));
    const c2 = h.results[1]!;
    expect(c2.labs.map((c) => `${c.lab}:${c.result}:${c.pass}/${c.fail}`)).toEqual(["lab-a:flaky:1/1", "lab-b:pass:1/0"]);
    expect(c2.labs[0]!.jobs.map((x) => x.url)).toEqual(["/jobs/lab-a/102", "/jobs/lab-a/103"]);
    const infra = await testHistory(await db(), { test: "0_smoke.infra", tree: "mainline", branch: "master" }, 10, null);
    expect(infra.results.map((r) => r.commit)).toEqual([3, 1].map(commitSha));
  });

  it("jobs stored before their metadata named a build are linked at startup, with the same regressions", async () => {
    const keys = { ...DEFAULT_BUILD_KEYS, tree: ["no.such.key"] };
    for (const j of historyJobs()) {
      const r = await ingest.ingestCallback({
        db: await db(),
        job: { instance: j.lab, receivedAt: new Date().toISOString(), payload: historyPayload(j, "backfill", 6000) },
        log,
        buildKeys: keys,
      });
      expect(r.buildId).toBeNull();
    }
    expect(await regressionLines("backfill")).toEqual([]);
    const { backfillBuilds } = await import("../src/server/services/backfill-builds.ts");
    const r = await backfillBuilds({ db: await db(), log, keys: DEFAULT_BUILD_KEYS, batch: 4 });
    expect(r.linked).toBe(historyJobs().length);
    expect(await regressionLines("backfill")).toEqual(EXPECTED);
    expect((await backfillBuilds({ db: await db(), log, keys: DEFAULT_BUILD_KEYS })).linked).toBe(0);
  });

  it("a job without build metadata is stored and linked to no build", async () => {
    const r = await ingest.ingestCallback({
      db: await db(),
      job: {
        instance: "lab-a",
        receivedAt: new Date().toISOString(),
        payload: { ...historyPayload(historyJobs()[0]!), id: 999, metadata: { "kernel.tree": "x" } },
      },
      log,
    });
    expect(r).toMatchObject({ created: true, buildId: null, transitions: 0 });
  });
});
