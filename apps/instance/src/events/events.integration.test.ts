import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZPingResponse } from "@magma/protocol";
import { readStream, type Frame } from "../testing/sse.ts";
import { ADMIN_TOKEN, api, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("GET /api/v0.2/events/ (LAVA topics, resumable)", () => {
  it("streams job, device and worker changes with LAVA's fields; resumes after ?since / Last-Event-ID", async () => {
    expect((await ping(h)).status).toBe(200); // worker Offline → Online
    const jobId = await submit(h, jobYaml({ name: "evented" }));
    const { token } = ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start[0]!;
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });

    const jobDone = (f: Frame[]) => f.some((x) => x.event === "org.lavasoftware.testjob" && JSON.parse(x.frames[4]).state === "Finished");
    const all = await readStream(`${h.baseUrl}/api/v0.2/events/`, jobDone);
    const jobStates = all.filter((f) => f.event === "org.lavasoftware.testjob").map((f) => JSON.parse(f.frames[4]).state);
    expect(jobStates).toEqual(["Submitted", "Scheduled", "Running", "Finished"]);
    const finished = all.find((f) => f.event === "org.lavasoftware.testjob" && JSON.parse(f.frames[4]).state === "Finished")!;
    expect(finished.frames[0]).toBe("org.lavasoftware.testjob");
    expect(finished.frames[3]).toBe("admin");
    expect(JSON.parse(finished.frames[4])).toMatchObject({
      job: jobId,
      health: "Complete",
      description: "evented",
      submitter: "admin",
      device_type: "qemu",
      device: "qemu-01",
      worker: "worker-a",
      health_check: false,
    });
    expect(JSON.parse(finished.frames[4]).end_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    const deviceStates = all.filter((f) => f.event === "org.lavasoftware.device").map((f) => JSON.parse(f.frames[4]).state);
    expect(deviceStates).toEqual(["Reserved", "Running", "Idle"]);
    expect(all.find((f) => f.event === "org.lavasoftware.worker")!.frames).toEqual([
      "org.lavasoftware.worker",
      expect.any(String),
      expect.any(String),
      "lavaserver",
      JSON.stringify({ hostname: "worker-a", health: "Active", state: "Online" }),
    ]);
    expect(all.map((f) => f.id)).toEqual([...all.map((f) => f.id)].sort((a, b) => a - b));

    // resume: only what came after the given sequence number, live events included
    const cut = all[all.length - 2]!.id;
    const resumed = readStream(
      `${h.baseUrl}/api/v0.2/events/?topic=org.lavasoftware.testjob`,
      (f) => f.some((x) => JSON.parse(x.frames[4]).state === "Canceling" || JSON.parse(x.frames[4]).health === "Canceled"),
      { "last-event-id": String(cut) },
    );
    const next = await submit(h, jobYaml({ name: "then-canceled" }));
    await api(h, "POST", `/api/v0.2/jobs/${next}/cancel/`, { token: ADMIN_TOKEN });
    const got = await resumed;
    expect(got.every((f) => f.id > cut && f.event === "org.lavasoftware.testjob")).toBe(true);
    expect(got.some((f) => JSON.parse(f.frames[4]).job === next)).toBe(true);
    await waitUntil(() => h.db.event.count().then((n) => n > all.length), 5000, "more events stored");
  });
});
