import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canAdminister,
  canChangeJob,
  canViewJob,
  createInstanceDb,
  findVisibleJob,
  listCasesForExport,
  listFinishedJobRows,
  listJobBriefs,
  listJobSummaries,
  pageSuites,
  readLogLines,
  readEvents,
  visibleEvents,
  visibleJobIds,
  type InstanceDb,
  type TInstanceViewer,
} from "../src/instance/index.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing/index.ts";

let tdb: TestDatabase;
let db: InstanceDb;
const viewers: Record<string, TInstanceViewer | null> = { anonymous: null };
const jobs: Record<string, number> = {};

beforeAll(async () => {
  tdb = await createTestDatabase("instance");
  db = createInstanceDb(tdb.url, 2);
  const dt = await db.deviceType.create({ data: { name: "qemu" } });
  for (const [name, su] of [
    ["admin", true],
    ["alice", false],
    ["bob", false],
    ["carol", false],
  ] as const) {
    const u = await db.user.create({ data: { username: name, isSuperuser: su } });
    viewers[name] = { id: u.id, username: u.username, isSuperuser: u.isSuperuser };
  }
  const ga = await db.group.create({ data: { name: "team-a" } });
  const gb = await db.group.create({ data: { name: "team-b" } });
  // bob is in both groups, carol only in team-a
  await db.groupMembership.createMany({
    data: [
      { userId: viewers["bob"]!.id, groupId: ga.id },
      { userId: viewers["bob"]!.id, groupId: gb.id },
      { userId: viewers["carol"]!.id, groupId: ga.id },
    ],
  });
  for (const [name, visibility] of [
    ["public", "public"],
    ["personal", "personal"],
    ["group", "group:team-a,team-b"],
  ] as const) {
    const j = await db.testJob.create({
      data: {
        submitterId: viewers["alice"]!.id,
        description: name,
        requestedDeviceTypeId: dt.id,
        visibility,
        definition: "job_name: x\n",
        originalDefinition: "job_name: x # as sent\n",
        tokenNonce: "n",
        metadata: { k: "v" },
      },
    });
    jobs[name] = j.id;
  }
  const suite = await db.testSuite.create({ data: { jobId: jobs["public"]!, name: "0_smoke" } });
  await db.testCase.create({
    data: {
      jobId: jobs["public"]!,
      suiteId: suite.id,
      name: "always-pass",
      result: "pass",
      measurement: "1.8300000000",
      units: "s",
      logLineIndex: 0,
    },
  });
  await db.logLine.createMany({
    data: [0, 1, 2].map((i) => ({ jobId: jobs["public"]!, index: i, dt: "2026-12-01T00:00:00", lvl: "info", msg: `line ${i}` })),
  });
  await db.testJob.updateMany({
    where: {},
    data: { state: "Finished", health: "Complete", endTime: new Date("2026-12-01T00:00:00.000Z") },
  });
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

// who may see which job: LAVA's can_view (group jobs need every listed group)
const expected: Record<string, string[]> = {
  anonymous: ["public"],
  admin: ["public", "personal", "group"],
  alice: ["public", "personal", "group"],
  bob: ["public", "group"],
  carol: ["public"],
};

describe("instance repositories: one visibility policy for every read", () => {
  it("the SQL condition, the per-job check and the repositories agree for every viewer", async () => {
    for (const [who, viewer] of Object.entries(viewers)) {
      const want = expected[who]!.map((n) => jobs[n]!).sort();
      const perJob: number[] = [];
      for (const name of Object.keys(jobs)) {
        const job = await findVisibleJob(db, jobs[name]!, viewer);
        const raw = await db.testJob.findUniqueOrThrow({ where: { id: jobs[name]! } });
        expect(await canViewJob(db, raw, viewer), `${who} ${name}`).toBe(job !== null);
        if (job) perJob.push(job.id);
      }
      expect(perJob.sort(), who).toEqual(want);
      expect([...(await visibleJobIds(db, Object.values(jobs), viewer))].sort(), who).toEqual(want);
      const page = await listJobSummaries(db, viewer, { limit: 10, offset: 0, ordering: "id" });
      expect(
        page.results.map((j) => j.id),
        who,
      ).toEqual(want);
      expect(page.count, who).toBe(want.length);
      expect(
        (await listJobBriefs(db, viewer, { limit: 10, offset: 0, ordering: "id" })).map((j) => j.id),
        who,
      ).toEqual(want);
      expect(
        (await listFinishedJobRows(db, viewer, null, 10)).map((j) => j.id),
        who,
      ).toEqual(want);
    }
  });

  it("administration is for superusers only; a job may be changed by its submitter and superusers", async () => {
    expect(
      Object.entries(viewers)
        .filter(([, v]) => canAdminister(v))
        .map(([k]) => k),
    ).toEqual(["admin"]);
    const job = (await findVisibleJob(db, jobs["personal"]!, viewers["admin"]!))!;
    expect(["admin", "alice", "bob", "carol"].filter((k) => canChangeJob(job, viewers[k]!))).toEqual(["admin", "alice"]);
  });

  it("returns plain DTOs: names resolved, definitions, metadata, decimal measurement as text, log lines", async () => {
    const job = await findVisibleJob(db, jobs["public"]!, null);
    expect(job).toMatchObject({
      submitter: "alice",
      requestedDeviceType: "qemu",
      actualDevice: null,
      state: "Finished",
      health: "Complete",
      metadata: { k: "v" },
      originalDefinition: "job_name: x # as sent\n",
    });
    expect(job!.submitTime).toBeInstanceOf(Date);
    const cases = await listCasesForExport(db, { jobId: jobs["public"]! });
    expect(cases.map((c) => [c.suite, c.name, c.result, c.measurement, c.units])).toEqual([
      ["0_smoke", "always-pass", "pass", "1.83", "s"],
    ]);
    expect(await pageSuites(db, jobs["public"]!, 10, 0)).toMatchObject({ count: 1, results: [{ name: "0_smoke", caseCount: 1 }] });
    expect((await readLogLines(db, jobs["public"]!, 1)).map((l) => [l.line, l.msg])).toEqual([
      [1, "line 1"],
      [2, "line 2"],
    ]);
    const [feed] = await listFinishedJobRows(db, null, null, 1);
    expect(feed).toEqual({
      id: jobs["public"],
      end_time: "2026-12-01T00:00:00.000000Z",
      health: "Complete",
      test_case_count: 1,
      log_line_count: 0,
      visibility: "public",
      submitter: "alice",
    });
  });

  it("lists jobs as REST items: LAVA's field names in order, times as toISOString() text, metadata {} for JSON null", async () => {
    const extra = await db.testJob.create({
      data: {
        submitterId: viewers["bob"]!.id,
        description: "extra",
        requestedDeviceTypeId: (await db.deviceType.findFirstOrThrow({ where: { name: "qemu" } })).id,
        definition: "job_name: extra\n",
        originalDefinition: "job_name: extra\n",
        tokenNonce: "n",
        tags: ["a", "b c"],
      },
    });
    try {
      // microseconds a Date cannot hold: the text is truncated to milliseconds, as toISOString() of the stored instant;
      // a JSON null as metadata (not SQL NULL) reads as {}
      await db.$executeRaw`UPDATE test_jobs SET submit_time = '2026-01-02 03:04:05.678999+00', metadata = 'null'::jsonb WHERE id = ${extra.id}`;
      const page = await listJobSummaries(db, viewers["admin"]!, { limit: 1, offset: 0, ordering: "-id", states: ["Submitted"] });
      expect(page.count).toBe(1);
      expect(JSON.stringify(page.results[0])).toBe(
        JSON.stringify({
          id: extra.id,
          submitter: "bob",
          description: "extra",
          health_check: false,
          requested_device_type: "qemu",
          tags: ["a", "b c"],
          actual_device: null,
          submit_time: "2026-01-02T03:04:05.678Z",
          start_time: null,
          end_time: null,
          state: "Submitted",
          health: "Unknown",
          priority: 50,
          visibility: "public",
          metadata: {},
          failure_comment: null,
          error_type: null,
        }),
      );
      expect(await listJobBriefs(db, viewers["admin"]!, { limit: 1, offset: 0, ordering: "-id", states: ["Submitted"] })).toEqual([
        { id: extra.id, description: "extra", device_type: "qemu", health: "Unknown", state: "Submitted", submitter: "bob" },
      ]);
      const finished = await listJobSummaries(db, viewers["admin"]!, { limit: 10, offset: 0, ordering: "id", healths: ["Complete"] });
      expect(finished.results.map((j) => [j.description, j.end_time, j.metadata])).toEqual([
        ["public", "2026-12-01T00:00:00.000Z", { k: "v" }],
        ["personal", "2026-12-01T00:00:00.000Z", { k: "v" }],
        ["group", "2026-12-01T00:00:00.000Z", { k: "v" }],
      ]);
    } finally {
      await db.testJob.delete({ where: { id: extra.id } });
    }
  });

  it("events about a hidden job are dropped (testjob) or lose their job field (device)", async () => {
    const events = [
      { id: 1, topic: "org.lavasoftware.testjob", createdAt: new Date(), data: { job: jobs["personal"]! } },
      { id: 2, topic: "org.lavasoftware.device", createdAt: new Date(), data: { device: "qemu-01", job: jobs["personal"]! } },
      { id: 3, topic: "org.lavasoftware.testjob", createdAt: new Date(), data: { job: jobs["public"]! } },
    ];
    expect(await visibleEvents(db, events, viewers["bob"]!)).toEqual([{ ...events[1]!, data: { device: "qemu-01" } }, events[2]]);
    expect(await visibleEvents(db, events, viewers["alice"]!)).toEqual(events);
    // the triggers recorded the jobs' creation and updates as rows, oldest first
    const stored = await readEvents(db, 0);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.map((e) => e.id)).toEqual([...stored.map((e) => e.id)].sort((a, b) => a - b));
  });
});
