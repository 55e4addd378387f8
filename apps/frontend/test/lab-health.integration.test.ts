import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findInstanceByName, ingestFederatedJob, touchInstance, upsertInstances, type TIngestJobInput } from "@magma/db/frontend";
import { ZLabHealthBoard, type TLabHealthBoard } from "@magma/protocol";
import { fakeLab, json, setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lab: Awaited<ReturnType<typeof fakeLab>>;
let rootToken = "";

const overview = {
  name: "lab-a",
  version: "2026.11",
  workers: [
    { hostname: "w-2", state: "Online", health: "Active", last_ping: null },
    { hostname: "w-1", state: "Online", health: "Active", last_ping: null },
    { hostname: "w-3", state: "Offline", health: "Active", last_ping: null },
  ],
  devices: [
    { hostname: "qemu-01", device_type: "qemu", state: "Idle", health: "Good", worker_host: "w-1", current_job: null },
    { hostname: "qemu-02", device_type: "qemu", state: "Idle", health: "Bad", worker_host: "w-1", current_job: null },
    { hostname: "qemu-03", device_type: "qemu", state: "Idle", health: "Maintenance", worker_host: "w-2", current_job: null },
    { hostname: "arm-01", device_type: "arm", state: "Idle", health: "Good", worker_host: "w-2", current_job: null },
  ],
  device_types: ["qemu", "arm"],
  queue: { submitted: 0, scheduled: 0, running: 0 },
};

const HOUR = 3600_000;
let nextId = 1;
/** A finished job of `labId` on `deviceType` that ended `hoursAgo` hours ago. */
function finished(labId: number, deviceType: string, hoursAgo: number, infra: boolean, visibility = "public"): TIngestJobInput {
  const end = new Date(Date.now() - hoursAgo * HOUR);
  return {
    instanceId: labId,
    remoteId: nextId++,
    name: "health",
    deviceType,
    submitter: "alice",
    state: "Finished",
    health: infra ? "Incomplete" : "Complete",
    stateRank: 51,
    priority: 50,
    metadata: {},
    actualDevice: null,
    submitTime: new Date(end.getTime() - 60_000),
    startTime: new Date(end.getTime() - 50_000),
    endTime: end,
    errorType: infra ? "Infrastructure" : null,
    failureComment: null,
    definition: "job_name: health\n",
    healthCheck: false,
    visibility: { kind: visibility, groups: [] },
    receivedAt: end,
    cases: [],
  };
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  process.env["MAGMA_FRONTEND_SECRET_KEY"] = "lab-health-test-key-0123456789abcdefghij";
  lab = await fakeLab((req, _body, res) => {
    if (req.url === "/api/v0.2/magma/overview/") return json(res, 200, overview);
    return json(res, 404, { message: "nope" });
  });
  const { db } = await import("../src/server/db.ts");
  const [a, b] = await upsertInstances(db(), [
    { name: "lab-a", url: lab.url, api_token: "api-a", callback_token: "secret-a-123" },
    // nothing listens on port 9: unreachable
    { name: "lab-b", url: "http://127.0.0.1:9", api_token: "api-b", callback_token: "secret-b-123" },
  ]);
  const jobs = [
    // lab-a, last 24 h: qemu 1 ok + 1 Infrastructure, arm 1 ok
    finished(a!.id, "qemu", 1, false),
    finished(a!.id, "qemu", 2, true),
    finished(a!.id, "arm", 3, false),
    // lab-a, 1–7 days ago: qemu 3 ok + 1 Infrastructure
    finished(a!.id, "qemu", 30, false),
    finished(a!.id, "qemu", 50, false),
    finished(a!.id, "qemu", 72, false),
    finished(a!.id, "qemu", 100, true),
    // older than 7 days: not counted
    finished(a!.id, "qemu", 8 * 24 + 1, true),
    // a personal job: counted only for whoever may read it (not anonymous visitors)
    finished(a!.id, "qemu", 1, true, "personal"),
    // lab-b: one Infrastructure error 5 h ago
    finished(b!.id, "qemu", 5, true),
  ];
  for (const j of jobs) await ingestFederatedJob(db(), j);
  // lab-c: outbound-only, enrolled and heard from just now (connected), never asked for an overview
  const { enrollLab, redeemEnrollment } = await import("../src/server/services/labs.ts");
  await redeemEnrollment(db(), (await enrollLab(db(), "lab-c")).token);
  await touchInstance(db(), (await findInstanceByName(db(), "lab-c"))!.id);
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const out: string[] = [];
  await runUsersCli(["add", "root", "--superuser"], () => {});
  await runUsersCli(["tokens", "create", "root"], (l) => out.push(l));
  rootToken = out[0]!;
  // a job still running is not a finished one
  await ingestFederatedJob(db(), {
    ...finished(a!.id, "qemu", 0.5, false),
    state: "Running",
    health: "Unknown",
    stateRank: 30,
    endTime: null,
  });
});

afterAll(async () => {
  await lab?.close();
  await envCtl?.cleanup();
});

async function board(headers: Record<string, string> = {}): Promise<TLabHealthBoard> {
  const { GET } = await import("../src/app/api/v1/labs/health/route.ts");
  const res = await GET(new Request("http://127.0.0.1:3000/api/v1/labs/health", { headers }));
  expect(res.status).toBe(200);
  return ZLabHealthBoard.parse(await res.json());
}

describe("GET /api/v1/labs/health", () => {
  it("per lab: reachability, workers and devices by name, infrastructure-error rates over 24 h and 7 d, history", async () => {
    const b = await board();
    const a = b.labs.find((l) => l.name === "lab-a")!;
    expect(a).toMatchObject({
      mode: "inbound",
      status: "reachable",
      reachable: true,
      error: null,
      workersOnline: ["w-1", "w-2"],
      workersOffline: ["w-3"],
      devicesBad: ["qemu-02"],
      devicesMaintenance: ["qemu-03"],
      infra24h: { finished: 3, infrastructure: 1 },
      infra7d: { finished: 7, infrastructure: 2 },
    });
    expect(a.infra24h.rate).toBeCloseTo(1 / 3);
    expect(a.infra7d.rate).toBeCloseTo(2 / 7);
    // the history covers the same 7 days, in 6-hour buckets, oldest first
    expect(b.historyBucketHours).toBe(6);
    expect(a.history.reduce((s, h) => s + h.finished, 0)).toBe(7);
    expect(a.history.reduce((s, h) => s + h.infrastructure, 0)).toBe(2);
    expect(a.history.map((h) => h.bucket)).toEqual([...a.history.map((h) => h.bucket)].sort());
    for (const h of a.history) expect(h.rate).toBeCloseTo(h.infrastructure / h.finished);
    // one point per bucket, whatever the device types in it
    expect(new Set(a.history.map((h) => h.bucket)).size).toBe(a.history.length);

    const lb = b.labs.find((l) => l.name === "lab-b")!;
    expect(lb).toMatchObject({
      mode: "inbound",
      status: "unreachable",
      reachable: false,
      workersOnline: [],
      workersOffline: [],
      devicesBad: [],
      infra24h: { finished: 1, infrastructure: 1, rate: 1 },
      infra7d: { finished: 1, infrastructure: 1, rate: 1 },
    });
    expect(lb.error).toBeTruthy();
    expect(lb.history).toHaveLength(1);

    // an outbound-only lab is connected (heard from recently), not probed
    expect(b.labs.find((l) => l.name === "lab-c")).toMatchObject({
      mode: "outbound",
      status: "connected",
      reachable: true,
      error: null,
      workersOnline: [],
      infra7d: { finished: 0, infrastructure: 0, rate: null },
      history: [],
    });
  });

  it("per device type across labs: labs offering it, Bad/Maintenance devices, rates summed over labs", async () => {
    const b = await board();
    expect(b.deviceTypes.map((t) => t.deviceType)).toEqual(["arm", "qemu"]);
    const qemu = b.deviceTypes.find((t) => t.deviceType === "qemu")!;
    expect(qemu).toMatchObject({
      labs: ["lab-a"],
      devices: { total: 3, bad: 1, maintenance: 1 },
      infra24h: { finished: 3, infrastructure: 2 },
      infra7d: { finished: 7, infrastructure: 3 },
    });
    expect(b.deviceTypes.find((t) => t.deviceType === "arm")).toMatchObject({
      devices: { total: 1, bad: 0, maintenance: 0 },
      infra24h: { finished: 1, infrastructure: 0, rate: 0 },
    });
  });

  it("per device type: an infrastructure-error history summed over labs, one point per bucket", async () => {
    const b = await board();
    const qemu = b.deviceTypes.find((t) => t.deviceType === "qemu")!;
    // lab-a's six qemu jobs and lab-b's one over the 7 days, the same totals as the 7-day rate
    expect(qemu.history.reduce((s, h) => s + h.finished, 0)).toBe(qemu.infra7d.finished);
    expect(qemu.history.reduce((s, h) => s + h.infrastructure, 0)).toBe(qemu.infra7d.infrastructure);
    expect(qemu.history.map((h) => h.bucket)).toEqual([...new Set(qemu.history.map((h) => h.bucket))].sort());
    for (const h of qemu.history) expect(h.rate).toBeCloseTo(h.infrastructure / h.finished);
    const bucketMs = b.historyBucketHours * 3600_000;
    for (const h of qemu.history) expect(Date.parse(h.bucket) % bucketMs).toBe(0);
    // the bucket of the Infrastructure error lab-b had 5 h ago counts it with lab-a's jobs of that bucket
    const fiveHoursAgo = Date.parse(b.checkedAt) - 5 * 3600_000;
    const bucket = new Date(Math.floor(fiveHoursAgo / bucketMs) * bucketMs).toISOString();
    const labsInBucket = b.labs.map((l) => l.history.find((h) => h.bucket === bucket)?.finished ?? 0);
    const armInBucket = b.deviceTypes.find((t) => t.deviceType === "arm")!.history.find((h) => h.bucket === bucket)?.finished ?? 0;
    expect(qemu.history.find((h) => h.bucket === bucket)!.finished).toBe(labsInBucket.reduce((s, n) => s + n, 0) - armInBucket);
    expect(b.deviceTypes.find((t) => t.deviceType === "arm")!.history.reduce((s, h) => s + h.finished, 0)).toBe(1);
  });

  it("counts the jobs the caller may read: a superuser also sees the personal job", async () => {
    const b = await board({ authorization: `Token ${rootToken}` });
    expect(b.labs.find((l) => l.name === "lab-a")).toMatchObject({
      infra24h: { finished: 4, infrastructure: 2 },
      infra7d: { finished: 8, infrastructure: 3 },
    });
    const { GET } = await import("../src/app/api/v1/labs/health/route.ts");
    const forged = await GET(
      new Request("http://127.0.0.1:3000/api/v1/labs/health", { headers: { authorization: "Token forged-000000000000" } }),
    );
    expect(forged.status).toBe(401);
  });
});
