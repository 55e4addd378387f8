import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobYaml, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";
import { schedule } from "./scheduler.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("scheduleJobs (set-based pass)", () => {
  it("finds a matching job behind more non-matching ones than the in-memory queue head holds", async () => {
    // the device has no tags: none of the 40 tagged high-priority jobs fits it, the low one does
    const tagged = [];
    for (let i = 0; i < 40; i++) tagged.push(await submit(h, jobYaml({ name: `gpu-${i}`, priority: "high", tags: ["gpu"] })));
    const plain = await submit(h, jobYaml({ name: "plain", priority: "low" }));
    await h.db.worker.update({ where: { hostname: "worker-a" }, data: { state: "Online", lastPing: new Date() } });
    // the app's own (event-driven) pass may hold the device lock right now: ours then skips it
    await schedule(h.app.ctx);
    h.app.scheduler.trigger();
    const job = await waitUntil(
      async () => {
        const j = await h.db.testJob.findUniqueOrThrow({ where: { id: plain }, include: { actualDevice: true } });
        return j.state === "Scheduled" ? j : null;
      },
      5000,
      "the untagged job scheduled",
    );
    expect(job.actualDevice?.hostname).toBe("qemu-01");
    expect((await h.db.device.findUniqueOrThrow({ where: { hostname: "qemu-01" } })).currentJobId).toBe(plain);
    expect(await h.db.testJob.count({ where: { id: { in: tagged }, state: "Submitted" } })).toBe(40);
  });
});
