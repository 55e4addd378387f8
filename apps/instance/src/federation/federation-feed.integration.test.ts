import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEDERATION_INLINE_CASES, ZFinishedJobsPage, ZJobCasesPage, ZNotifyPayload } from "@magma/protocol";
import { ADMIN_TOKEN, BOB_TOKEN, api, jobYaml, startHarness, submit, type Harness } from "../testing/harness.ts";

let h: Harness;
const ids: number[] = [];
beforeAll(async () => {
  h = await startHarness();
  // five jobs; finish 1..4 with end times out of id order, the same end time (µs) for two of them
  for (let i = 0; i < 5; i++) ids.push(await submit(h, jobYaml({ name: `feed-${i}` })));
  const t0 = Date.parse("2026-11-23T10:00:00.000Z");
  const ends = [t0 + 3000, t0 + 1000, t0 + 2000, t0 + 2000];
  for (const [k, end] of ends.entries()) {
    const id = ids[k]!;
    await h.db.testJob.update({
      where: { id },
      data: { state: "Finished", health: k === 1 ? "Incomplete" : "Complete", endTime: new Date(end), logLineCount: 10 + k },
    });
    const suite = await h.db.testSuite.create({ data: { jobId: id, name: "lava" } });
    for (let c = 0; c <= k; c++)
      await h.db.testCase.create({ data: { jobId: id, suiteId: suite.id, name: `case-${c}`, result: "pass", logLineIndex: c } });
  }
  // sub-millisecond end times must survive the cursor exactly
  await h.db.$executeRaw`UPDATE test_jobs SET end_time = end_time + interval '123 microseconds' WHERE id = ${ids[2]!} OR id = ${ids[3]!}`;
});
afterAll(async () => {
  await h?.close();
});

describe("GET magma/finished-jobs/ (reconciliation feed)", () => {
  it("lists finished jobs in (end_time, id) order with case and log line counts, paging by an exact cursor", async () => {
    const seen: number[] = [];
    let q = "limit=1";
    for (let n = 0; n < 10; n++) {
      const r = await api(h, "GET", `/api/v0.2/magma/finished-jobs/?${q}`, { token: ADMIN_TOKEN });
      expect(r.status).toBe(200);
      const page = ZFinishedJobsPage.parse(r.json);
      seen.push(...page.results.map((j) => j.id));
      if (!page.next) break;
      q = `limit=1&since=${encodeURIComponent(page.next.since)}&after_id=${page.next.after_id}`;
    }
    expect(seen).toEqual([ids[1], ids[2], ids[3], ids[0]]);
    const all = ZFinishedJobsPage.parse((await api(h, "GET", "/api/v0.2/magma/finished-jobs/", { token: ADMIN_TOKEN })).json);
    expect(all.next).toBeNull();
    expect(all.results.map((j) => [j.id, j.health, j.test_case_count, j.log_line_count])).toEqual([
      [ids[1], "Incomplete", 2, 11],
      [ids[2], "Complete", 3, 12],
      [ids[3], "Complete", 4, 13],
      [ids[0], "Complete", 1, 10],
    ]);
    expect(all.results[1]!.end_time).toBe("2026-11-23T10:00:02.000123Z");
  });

  it("names a bad parameter", async () => {
    const r = await api(h, "GET", "/api/v0.2/magma/finished-jobs/?limit=0", { token: ADMIN_TOKEN });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("limit must be at least 1");
    const s = await api(h, "GET", "/api/v0.2/magma/finished-jobs/?since=yesterday", { token: ADMIN_TOKEN });
    expect(s.status).toBe(400);
    expect(s.json.message).toContain("since 'yesterday'");
  });

  it("hides private jobs from others", async () => {
    await h.db.testJob.update({ where: { id: ids[0]! }, data: { visibility: "personal" } });
    const bob = ZFinishedJobsPage.parse((await api(h, "GET", "/api/v0.2/magma/finished-jobs/", { token: BOB_TOKEN })).json);
    expect(bob.results.map((j) => j.id)).not.toContain(ids[0]);
    const admin = ZFinishedJobsPage.parse((await api(h, "GET", "/api/v0.2/magma/finished-jobs/", { token: ADMIN_TOKEN })).json);
    expect(admin.results.map((j) => j.id)).toContain(ids[0]);
    expect((await api(h, "GET", `/api/v0.2/magma/jobs/${ids[0]}/federation/`, { token: BOB_TOKEN })).status).toBe(404);
    await h.db.testJob.update({ where: { id: ids[0]! }, data: { visibility: "public" } });
  });
});

describe("GET magma/jobs/<id>/federation/", () => {
  it("returns the federation payload with every result and no log or token", async () => {
    const r = await api(h, "GET", `/api/v0.2/magma/jobs/${ids[3]}/federation/`, { token: ADMIN_TOKEN });
    expect(r.status).toBe(200);
    const p = ZNotifyPayload.parse(r.json);
    expect(p).toMatchObject({ id: ids[3], state_string: "Finished", health_string: "Complete", magma: { device_type: "qemu" } });
    expect(p.log).toBeUndefined();
    expect(p.token).toBeUndefined();
    expect(p.results?.["lava"]?.match(/^- /gm)).toHaveLength(4);
    expect(p.magma?.transfer).toEqual({ test_cases: 4, log_lines: 13, results_inline: true });
    expect((await api(h, "GET", "/api/v0.2/magma/jobs/999999/federation/", { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await api(h, "GET", "/api/v0.2/magma/jobs/abc/federation/", { token: ADMIN_TOKEN })).status).toBe(404);
  });
});

describe("huge jobs: GET magma/jobs/<id>/cases/ and the bounded federation payload", () => {
  let big: number;
  const total = FEDERATION_INLINE_CASES + 250;
  beforeAll(async () => {
    big = await submit(h, jobYaml({ name: "huge" }));
    await h.db.testJob.update({
      where: { id: big },
      data: { state: "Finished", health: "Complete", endTime: new Date(), logLineCount: total },
    });
    const suite = await h.db.testSuite.create({ data: { jobId: big, name: "0_big" } });
    await h.db.testCase.createMany({
      data: Array.from({ length: total }, (_, c) => ({
        jobId: big,
        suiteId: suite.id,
        name: `case-${c}`,
        result: "pass",
        logLineIndex: c,
      })),
    });
  });

  it("the federation payload of a job over FEDERATION_INLINE_CASES carries no results, only the totals", async () => {
    const p = ZNotifyPayload.parse((await api(h, "GET", `/api/v0.2/magma/jobs/${big}/federation/`, { token: ADMIN_TOKEN })).json);
    expect(p.results).toBeUndefined();
    expect(p.log).toBeUndefined();
    expect(p.magma?.transfer).toEqual({ test_cases: total, log_lines: total, results_inline: false });
  });

  it("pages every case exactly once in id order by keyset, and names a bad parameter", async () => {
    const names: string[] = [];
    let after = 0;
    for (let n = 0; n < 10; n++) {
      const r = await api(h, "GET", `/api/v0.2/magma/jobs/${big}/cases/?after_id=${after}&limit=400`, { token: ADMIN_TOKEN });
      expect(r.status).toBe(200);
      const page = ZJobCasesPage.parse(r.json);
      names.push(...page.results.map((c) => String(c["name"])));
      expect(page.results.every((c) => c["suite"] === "0_big" && c["result"] === "pass" && typeof c["id"] === "string")).toBe(true);
      if (page.next_after_id === null) break;
      after = page.next_after_id;
    }
    expect(names).toEqual(Array.from({ length: total }, (_, c) => `case-${c}`));
    const bad = await api(h, "GET", `/api/v0.2/magma/jobs/${big}/cases/?limit=9000`, { token: ADMIN_TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("limit must be at most 5000");
    expect((await api(h, "GET", "/api/v0.2/magma/jobs/999999/cases/", { token: ADMIN_TOKEN })).status).toBe(404);
  });
});
