import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertInstances } from "@magma/db/frontend";
import {
  ZBuildCompareResponse,
  ZBuildListResponse,
  ZKcidbExport,
  ZRegressionListResponse,
  ZTestHistoryResponse,
  ZTreeListResponse,
} from "@magma/protocol";
import pino from "pino";
import { setupTestEnv, waitFor } from "./helpers.ts";
import { commitSha, historyJobs, historyPayload } from "./build-history.ts";

/**
 * The /api/v1 builds, regressions, test history and compare endpoints (issue 12 item 3) over the
 * real callback path: synthetic LAVA callbacks from two labs are POSTed to /api/callbacks/<lab>,
 * queued in Redis and ingested by the BullMQ consumer (concurrency 4) into PostgreSQL.
 */
let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let consumer: { close(): Promise<void> } | undefined;
const TOKENS = { "lab-a": "secret-a-123", "lab-b": "secret-b-123" } as const;

async function raw(path: string): Promise<Response> {
  const url = new URL(path, "http://frontend");
  const routes: Record<string, () => Promise<{ GET: (req: Request) => Promise<Response> }>> = {
    "/api/v1/builds": () => import("../src/app/api/v1/builds/route.ts"),
    "/api/v1/builds/compare": () => import("../src/app/api/v1/builds/compare/route.ts"),
    "/api/v1/regressions": () => import("../src/app/api/v1/regressions/route.ts"),
    "/api/v1/tests/history": () => import("../src/app/api/v1/tests/history/route.ts"),
    "/api/v1/trees": () => import("../src/app/api/v1/trees/route.ts"),
    "/api/v1/kcidb": () => import("../src/app/api/v1/kcidb/route.ts"),
  };
  const route = await routes[url.pathname]!();
  return route.GET(new Request(url));
}

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await raw(path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [
    { name: "lab-a", url: "http://127.0.0.1:9", api_token: "api-a", callback_token: TOKENS["lab-a"] },
    { name: "lab-b", url: "http://127.0.0.1:9", api_token: "api-b", callback_token: TOKENS["lab-b"] },
  ]);
  const callbacks = await import("../src/app/api/callbacks/[lab]/route.ts");
  const { startCallbackConsumer } = await import("../src/server/queues/callback-consumer.ts");
  consumer = startCallbackConsumer({ db: db(), prefix: envCtl.prefix, log: pino({ level: "silent" }), concurrency: 4 });
  // every job's Running then Finished callback, late job last; BullMQ runs 4 at a time in any order
  const jobs = historyJobs();
  for (const j of [...jobs.filter((x) => !x.late), ...jobs.filter((x) => x.late)]) {
    const fin = historyPayload(j);
    for (const p of [{ ...fin, state: 3, state_string: "Running", health: 0, health_string: "Unknown", results: {} }, fin]) {
      const res = await callbacks.POST(
        new Request(`http://frontend/api/callbacks/${j.lab}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-magma-token": TOKENS[j.lab] },
          body: JSON.stringify(p),
        }),
        { params: Promise.resolve({ lab: j.lab }) },
      );
      expect(res.status).toBe(202);
    }
  }
  // a Finished row is committed with its statuses and regressions (one transaction)
  await waitFor(
    async () => (await db().federatedJob.count({ where: { state: "Finished" } })) === jobs.length,
    30_000,
    "every job ingested",
  );
}, 120_000);

afterAll(async () => {
  await consumer?.close();
  await envCtl?.cleanup();
});

describe("GET /api/v1/builds", () => {
  it("lists a branch's builds newest first with per-lab counts, keyset-paged", async () => {
    const r = await get("/api/v1/builds?tree=mainline&branch=master");
    expect(r.status).toBe(200);
    const body = ZBuildListResponse.parse(r.body);
    expect(body.results.map((b) => b.commit)).toEqual([5, 4, 3, 2, 1].map(commitSha));
    expect(body.results[3]).toMatchObject({
      tree: "mainline",
      branch: "master",
      describe: null,
      jobs: 5,
      regressions: 4,
      fixes: 0,
      first_seen: "2026-11-22T02:00:00.000Z",
    });
    expect(body.results[3]!.labs.find((l) => l.lab === "lab-b")).toEqual({
      lab: "lab-b",
      jobs: 2,
      pass: 3,
      fail: 2,
      skip: 0,
      infrastructure_failures: 1,
      regressions: 1,
      fixes: 0,
    });
    expect(body.next_cursor).toBeNull();
    const p1 = ZBuildListResponse.parse((await get("/api/v1/builds?tree=mainline&branch=master&limit=3")).body);
    expect(p1.next_cursor).toEqual(expect.any(String));
    const p2 = ZBuildListResponse.parse((await get(`/api/v1/builds?tree=mainline&branch=master&limit=3&cursor=${p1.next_cursor}`)).body);
    expect([...p1.results, ...p2.results].map((b) => b.commit)).toEqual([5, 4, 3, 2, 1].map(commitSha));
    expect(p2.next_cursor).toBeNull();
  });

  it("answers 400 naming the bad parameter", async () => {
    const missing = await get("/api/v1/builds?tree=mainline");
    expect(missing.status).toBe(400);
    expect(missing.body["message"]).toContain("branch: required");
    const unknown = await get("/api/v1/builds?tree=mainline&branch=master&sort=asc");
    expect(unknown.status).toBe(400);
    expect(unknown.body["message"]).toMatch(/unknown parameter "sort".*tree, branch, limit, cursor/);
    const limit = await get("/api/v1/builds?tree=mainline&branch=master&limit=0");
    expect(limit.body["message"]).toMatch(/limit "0": must be between 1 and 200/);
    const cursor = await get("/api/v1/builds?tree=mainline&branch=master&cursor=zzz");
    expect(cursor.status).toBe(400);
    expect(cursor.body["message"]).toMatch(/cursor "zzz" is not valid/);
  });

  it("lists trees and branches", async () => {
    const body = ZTreeListResponse.parse((await get("/api/v1/trees")).body);
    expect(body.results).toEqual([
      {
        tree: "mainline",
        branch: "master",
        builds: 5,
        latest: { commit: commitSha(5), describe: null, first_seen: "2026-11-25T05:00:00.000Z" },
      },
    ]);
  });
});

describe("GET /api/v1/regressions", () => {
  it("lists regressions and fixes with suspects, labs and job links; filters combine", async () => {
    const all = ZRegressionListResponse.parse((await get("/api/v1/regressions?tree=mainline&branch=master")).body);
    expect(all.results).toHaveLength(7);
    const code = all.results.find((r) => r.test === "0_smoke.code-break" && r.kind === "regression")!;
    expect(code).toEqual({
      kind: "regression",
      test: "0_smoke.code-break",
      suite: "0_smoke",
      case: "code-break",
      set: null,
      tree: "mainline",
      branch: "master",
      from_commit: commitSha(1),
      to_commit: commitSha(2),
      device_type: "qemu",
      labs: ["lab-a", "lab-b"],
      suspect: "code",
      jobs: [
        { lab: "lab-a", id: 102, url: "/jobs/lab-a/102" },
        { lab: "lab-b", id: 202, url: "/jobs/lab-b/202" },
      ],
    });
    // newest build first
    expect(all.results.map((r) => r.to_commit[0])).toEqual(["5", "3", "3", "2", "2", "2", "2"]);
    const lab = ZRegressionListResponse.parse((await get("/api/v1/regressions?tree=mainline&branch=master&suspect=lab")).body);
    expect(lab.results.map((r) => `${r.test} ${r.labs.join(",")}`)).toEqual(["0_smoke.lab-break lab-a"]);
    const fixes = ZRegressionListResponse.parse(
      (await get(`/api/v1/regressions?tree=mainline&branch=master&kind=fix&commit=${commitSha(3)}`)).body,
    );
    expect(fixes.results.map((r) => `${r.test} ${r.suspect}`)).toEqual(["0_smoke.fixed code"]);
    const set = ZRegressionListResponse.parse((await get("/api/v1/regressions?tree=mainline&branch=master&test=1_boot.mount.s1")).body);
    expect(set.results.map((r) => [r.suite, r.case, r.set, r.suspect])).toEqual([["1_boot", "mount", "s1", "code"]]);
    // flaky and infrastructure-only failures never appear
    expect(all.results.filter((r) => r.test === "0_smoke.flaky" || r.test === "0_smoke.infra")).toEqual([]);
    const p1 = ZRegressionListResponse.parse((await get("/api/v1/regressions?tree=mainline&branch=master&limit=4")).body);
    const p2 = ZRegressionListResponse.parse(
      (await get(`/api/v1/regressions?tree=mainline&branch=master&limit=4&cursor=${p1.next_cursor}`)).body,
    );
    expect([...p1.results, ...p2.results]).toEqual(all.results);
  });

  it("answers 400 for a bad kind or suspect", async () => {
    const r = await get("/api/v1/regressions?tree=mainline&branch=master&kind=break&suspect=gremlins");
    expect(r.status).toBe(400);
    expect(r.body["message"]).toMatch(/kind "break".*suspect "gremlins"/);
  });
});

describe("build page data", () => {
  it("has the labs × device types × suites matrix, failing/flaky tests linked to their log lines, jobs and regressions", async () => {
    const { getBuildPage } = await import("../src/server/services/build-results.ts");
    const { db } = await import("../src/server/db.ts");
    const p = await getBuildPage(db(), { tree: "mainline", branch: "master", commit: commitSha(2) }, undefined);
    expect(p.build.commit).toBe(commitSha(2));
    expect(p.matrix.find((m) => m.lab === "lab-a" && m.suite === "0_smoke")).toEqual({
      lab: "lab-a",
      deviceType: "qemu",
      suite: "0_smoke",
      pass: 0,
      fail: 5,
      skip: 0,
      flaky: 1,
    });
    const flaky = p.failures.find((f) => f.test === "0_smoke.flaky")!;
    // job 103 has one case (index 0 → line 40); 102's passing flaky case has no failing line
    expect(flaky.jobs).toEqual([
      { lab: "lab-a", id: 102, url: "/jobs/lab-a/102", line: null },
      { lab: "lab-a", id: 103, url: "/jobs/lab-a/103#L40", line: 40 },
    ]);
    expect(p.failures.find((f) => f.test === "0_smoke.lab-break")!.jobs).toEqual([
      { lab: "lab-a", id: 102, url: "/jobs/lab-a/102#L41", line: 41 },
    ]);
    expect(p.jobs.map((j) => `${j.lab}#${j.id} ${j.health}`)).toEqual([
      "lab-a#102 Complete",
      "lab-a#103 Complete",
      "lab-a#104 Complete",
      "lab-b#202 Complete",
      "lab-b#203 Incomplete",
    ]);
    expect(p.regressions).toHaveLength(4);
    await expect(getBuildPage(db(), { tree: "mainline", branch: "master", commit: "nope" }, undefined)).rejects.toThrow(
      'commit "nope" is not a build of mainline/master',
    );
  });
});

describe("GET /api/v1/tests/history and /api/v1/builds/compare", () => {
  it("gives a test's history per build and lab", async () => {
    const r = ZTestHistoryResponse.parse(
      (await get("/api/v1/tests/history?test=0_smoke.code-break&tree=mainline&branch=master&device_type=qemu")).body,
    );
    expect(r.results.map((b) => `${b.commit[0]} ${b.labs.map((c) => `${c.lab}:${c.result}`).join(" ")}`)).toEqual([
      "5 lab-b:pass",
      "4 lab-b:fail",
      "3 lab-a:fail lab-b:fail",
      "2 lab-a:fail lab-b:fail",
      "1 lab-a:pass lab-b:pass",
    ]);
    expect(r.results[0]!.labs[0]!.jobs).toEqual([{ lab: "lab-b", id: 206, url: "/jobs/lab-b/206" }]);
    const none = ZTestHistoryResponse.parse(
      (await get("/api/v1/tests/history?test=0_smoke.code-break&tree=mainline&branch=master&device_type=bbb")).body,
    );
    expect(none.results).toEqual([]);
    expect((await get("/api/v1/tests/history?tree=mainline&branch=master")).body["message"]).toContain("test: required");
    // keyset pages, newest first, add up to the whole history
    const q = "/api/v1/tests/history?test=0_smoke.code-break&tree=mainline&branch=master&device_type=qemu&limit=2";
    const commits: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const p: ReturnType<typeof ZTestHistoryResponse.parse> = ZTestHistoryResponse.parse(
        (await get(cursor ? `${q}&cursor=${cursor}` : q)).body,
      );
      commits.push(...p.results.map((b) => b.commit[0]!));
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    expect(commits).toEqual(["5", "4", "3", "2", "1"]);
  });

  it("compares two builds per lab", async () => {
    const r = ZBuildCompareResponse.parse(
      (await get(`/api/v1/builds/compare?tree=mainline&branch=master&from=${commitSha(1)}&to=${commitSha(2)}`)).body,
    );
    expect(r.results.map((x) => `${x.test} ${x.lab} ${x.from_status}→${x.to_status}`)).toEqual([
      "0_smoke.code-break lab-a pass→fail",
      "0_smoke.code-break lab-b pass→fail",
      "0_smoke.flaky lab-a pass→flaky",
      "0_smoke.infra lab-b pass→null",
      "0_smoke.lab-a-only lab-a pass→fail",
      "0_smoke.lab-break lab-a pass→fail",
      "0_smoke.late lab-a pass→fail",
    ]);
    const bad = await get(`/api/v1/builds/compare?tree=mainline&branch=master&from=${commitSha(1)}&to=deadbeef`);
    expect(bad.status).toBe(404);
    expect(bad.body["message"]).toBe('to "deadbeef" is not a build of mainline/master');
  });
});

describe("exports", () => {
  it("CSV of the regressions and history views", async () => {
    const res = await raw("/api/v1/regressions?tree=mainline&branch=master&suspect=lab&format=csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="regressions.csv"');
    expect((await res.text()).split("\r\n")).toEqual([
      '"kind","test","suite","case","set","tree","branch","from_commit","to_commit","device_type","labs","suspect","jobs"',
      `"regression","0_smoke.lab-break","0_smoke","lab-break","","mainline","master","${commitSha(1)}","${commitSha(2)}","qemu","lab-a","lab","/jobs/lab-a/102"`,
      "",
    ]);
    const paged = await raw("/api/v1/regressions?tree=mainline&branch=master&limit=2&format=csv");
    expect(paged.headers.get("x-next-cursor")).toEqual(expect.any(String));
    const h = await raw("/api/v1/tests/history?test=0_smoke.flaky&tree=mainline&branch=master&format=csv");
    const lines = (await h.text()).trim().split("\r\n");
    expect(lines[0]).toBe(
      '"test","tree","branch","commit","describe","first_seen","lab","device_type","result","pass","fail","skip","jobs"',
    );
    expect(lines).toContain(
      `"0_smoke.flaky","mainline","master","${commitSha(2)}","","2026-11-22T02:00:00.000Z","lab-a","qemu","flaky","1","1","0","/jobs/lab-a/102 /jobs/lab-a/103"`,
    );
    expect((await get("/api/v1/tests/history?test=x&tree=mainline&branch=master&format=xml")).body["message"]).toMatch(/format "xml"/);
  });

  it("KCIDB v4 JSON of a build and of a time window", async () => {
    const r = await get(`/api/v1/kcidb?tree=mainline&branch=master&commit=${commitSha(2)}`);
    expect(r.status).toBe(200);
    const k = ZKcidbExport.parse(r.body);
    expect(k.version.major).toBe(4);
    expect(k.checkouts).toEqual([
      {
        id: `magma:mainline:master:${commitSha(2)}`,
        origin: "magma",
        tree_name: "mainline",
        git_repository_url: "https://git.kernel.org/torvalds/linux.git",
        git_repository_branch: "master",
        git_commit_hash: commitSha(2),
        start_time: "2026-11-22T02:00:00.000Z",
        valid: true,
      },
    ]);
    expect(k.builds.map((b) => b.id)).toEqual([
      `magma:mainline:master:${commitSha(2)}:lab-a:qemu`,
      `magma:mainline:master:${commitSha(2)}:lab-b:qemu`,
    ]);
    // 6 + 1 + 1 cases on lab-a, 5 + 1 (Incomplete job) on lab-b; `lava` suite not exported
    expect(k.tests).toHaveLength(14);
    const infra = k.tests.find((t) => t.misc.job_id === 203)!;
    expect(infra).toMatchObject({ path: "0_smoke.infra", status: "ERROR", log_url: "http://frontend/jobs/lab-b/203#L40" });
    expect(k.tests.find((t) => t.misc.job_id === 105)).toBeUndefined();
    expect(k.tests.find((t) => t.path === "1_boot.mount.s1" && t.misc.lab === "lab-a")).toMatchObject({
      status: "PASS",
      environment: { comment: "lab-a qemu" },
    });
    const window = ZKcidbExport.parse((await get("/api/v1/kcidb?since=2026-11-22T00:00:00Z&until=2026-11-24T00:00:00Z")).body);
    expect(window.checkouts.map((c) => c.git_commit_hash)).toEqual([commitSha(2), commitSha(3)]);
    expect((await get("/api/v1/kcidb?tree=mainline")).body["message"]).toBe(
      "bad query parameter: since: required without commit (a build or a time window)",
    );
    expect((await get("/api/v1/kcidb?since=yesterday")).body["message"]).toMatch(/since "yesterday": must be an ISO 8601 time/);
    expect((await get(`/api/v1/kcidb?commit=${commitSha(2)}`)).body["message"]).toMatch(/tree: required with commit/);
  });
});

describe("visibility of builds and regressions", () => {
  it("a tree whose only jobs are personal is hidden from anonymous readers and shown to its submitter", async () => {
    const { db } = await import("../src/server/db.ts");
    const { addUser, createToken } = await import("../src/server/services/accounts.ts");
    const callbacks = await import("../src/app/api/callbacks/[lab]/route.ts");
    const base = historyPayload(historyJobs()[0]!, "private-tree", 50_000);
    const p = { ...base, submitter_username: "carol", magma: { ...base.magma!, visibility: "personal" } };
    const res = await callbacks.POST(
      new Request("http://frontend/api/callbacks/lab-a", {
        method: "POST",
        headers: { "content-type": "application/json", "x-magma-token": TOKENS["lab-a"] },
        body: JSON.stringify(p),
      }),
      { params: Promise.resolve({ lab: "lab-a" }) },
    );
    expect(res.status).toBe(202);
    await waitFor(
      async () => (await db().federatedJob.count({ where: { remote_id: base.id } })) === 1,
      30_000,
      "the personal job ingested",
    );
    await addUser(db(), { username: "carol", password: "carol-pass-1" });
    const { token } = await createToken(db(), "carol");
    const trees = async (authorization?: string) => {
      const r = await (
        await import("../src/app/api/v1/trees/route.ts")
      ).GET(new Request("http://frontend/api/v1/trees", { headers: authorization ? { authorization } : {} }));
      return ((await r.json()) as { results: { tree: string }[] }).results.map((t) => t.tree);
    };
    expect(await trees()).not.toContain("private-tree");
    expect(await trees(`Token ${token}`)).toContain("private-tree");
    const builds = await get("/api/v1/builds?tree=private-tree&branch=master");
    expect(builds).toMatchObject({ status: 200, body: { results: [] } });
    const history = async (authorization?: string) => {
      const r = await (
        await import("../src/app/api/v1/tests/history/route.ts")
      ).GET(
        new Request("http://frontend/api/v1/tests/history?test=0_smoke.code-break&tree=private-tree&branch=master", {
          headers: authorization ? { authorization } : {},
        }),
      );
      return ZTestHistoryResponse.parse(await r.json()).results;
    };
    expect(await history()).toEqual([]);
    const own = await history(`Token ${token}`);
    expect(own).toHaveLength(1);
    expect(own[0]!.labs.map((c) => c.lab)).toEqual(["lab-a"]);
  });
});
