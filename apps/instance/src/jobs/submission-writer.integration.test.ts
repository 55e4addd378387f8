import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlState, type TNewJobRow } from "@magma/db/instance";
import { ADMIN_TOKEN, api, jobYaml, startHarness, type Harness } from "../testing/harness.ts";
import { SubmissionWriter } from "./submission-writer.ts";
import { randomToken } from "./submit-job.ts";

let h: Harness;
let adminId: number;
let qemuTypeId: number;

beforeAll(async () => {
  h = await startHarness();
  adminId = (await h.db.user.findUniqueOrThrow({ where: { username: "admin" } })).id;
  qemuTypeId = (await h.db.deviceType.findUniqueOrThrow({ where: { name: "qemu" } })).id;
});
afterAll(async () => {
  await h?.close();
});

const row = (name: string, over: Partial<TNewJobRow> = {}): TNewJobRow => ({
  submitterId: adminId,
  description: name,
  requestedDeviceTypeId: qemuTypeId,
  tags: ["a", "b"],
  priority: 50,
  visibility: "public",
  metadata: { build: name },
  notify: null,
  definition: `job_name: ${name}\n`,
  originalDefinition: `job_name: ${name}\n`,
  tokenNonce: randomToken(),
  idempotencyKey: null,
  requestedDeviceId: null,
  requestedWorkerId: null,
  ...over,
});

const outbox = {
  transition: "Submitted",
  callbackIndex: -1,
  url: "http://frontend.example/api/callbacks/lab",
  method: "POST",
  contentType: "json",
  dataset: "results",
  headers: {},
};

describe("SubmissionWriter (group commit of concurrent submissions)", () => {
  it("writes a burst in few statements, ids in arrival order, outbox rows with their jobs", async () => {
    const writer = new SubmissionWriter(h.db);
    const names = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    const ids = await Promise.all(names.map((n, i) => writer.insert(row(n), i % 3 === 0 ? outbox : null)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(30);
    const jobs = await h.db.testJob.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
    expect(jobs.map((j) => j.description)).toEqual(names);
    expect(jobs.every((j) => j.state === "Submitted" && j.tags.join() === "a,b" && j.notify === null)).toBe(true);
    expect(jobs.map((j) => (j.metadata as { build: string }).build)).toEqual(names);
    // the first job goes alone, the ones that arrived meanwhile share one statement: one submit_time
    expect(new Set(jobs.map((j) => j.submitTime.getTime())).size).toBeLessThan(30);
    const rows = await h.db.callbackOutbox.findMany({ where: { jobId: { in: ids } }, orderBy: { jobId: "asc" } });
    expect(rows.map((r) => r.jobId)).toEqual(ids.filter((_, i) => i % 3 === 0));
    expect(rows.every((r) => r.transition === "Submitted" && r.callbackIndex === -1 && r.url === outbox.url)).toBe(true);
  });

  it("a job the database refuses fails alone: the others of its batch are stored", async () => {
    const writer = new SubmissionWriter(h.db);
    const rows = Array.from({ length: 12 }, (_, i) => row(`mixed-${i}`));
    rows[5] = row("mixed-5", { requestedDeviceTypeId: 987_654 }); // no such device type
    rows[8] = row("mixed-8", { idempotencyKey: "same-key" });
    rows[9] = row("mixed-9", { idempotencyKey: "same-key" }); // the same (submitter, key) as mixed-8
    const out = await Promise.allSettled(rows.map((r) => writer.insert(r, null)));
    const refused = out.flatMap((o, i) => (o.status === "rejected" ? [[i, sqlState(o.reason)]] : []));
    expect(refused).toEqual([
      [5, "23503"],
      [9, "23505"],
    ]);
    const stored = await h.db.testJob.findMany({ where: { description: { startsWith: "mixed-" } }, orderBy: { id: "asc" } });
    expect(stored.map((j) => j.description)).toEqual(rows.map((r) => r.description).filter((d) => d !== "mixed-5" && d !== "mixed-9"));
  });

  it("concurrent REST submissions all get their own job", async () => {
    const before = await h.db.testJob.count();
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: jobYaml({ name: `rest-${i}` }) } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(201));
    const ids = answers.map((a) => (a.json as { job_ids: number[] }).job_ids[0]!);
    expect(new Set(ids).size).toBe(24);
    expect(await h.db.testJob.count()).toBe(before + 24);
    const byId = await h.db.testJob.findMany({ where: { id: { in: ids } }, select: { id: true, description: true } });
    expect(new Map(byId.map((j) => [j.id, j.description]))).toEqual(new Map(ids.map((id, i) => [id, `rest-${i}`])));
  });
});
