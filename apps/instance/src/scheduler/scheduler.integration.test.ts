import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZPingResponse } from "@magma/protocol";
import { ADMIN_TOKEN, WORKER_TOKEN, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";
import { schedule } from "./scheduler.ts";

const LAB = `
users:
  - {username: admin, superuser: true, tokens: [{secret: ${ADMIN_TOKEN}}]}
workers:
  - {hostname: worker-a, token: ${WORKER_TOKEN}}
device_types:
  - name: qemu
  - name: hc-type
    health_check: |
      job_name: health check
      device_type: hc-type
      visibility: public
      timeouts: {job: {minutes: 5}}
      actions:
      - deploy: {to: tmpfs, images: {kernel: {url: "http://example.com/vmlinuz"}}}
      - boot: {method: qemu, prompts: ["/ #"]}
devices:
  - {hostname: qemu-01, device_type: qemu, worker: worker-a}
  - {hostname: hc-01, device_type: hc-type, worker: worker-a, health: Unknown}
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ lab: LAB });
});
afterAll(async () => {
  await h?.close();
});

/** Plays the worker: takes the next started job on `device`, runs it to FINISHED with `result`. */
async function runNext(device: string, result: "pass" | "fail" = "pass"): Promise<{ id: number; healthCheck: boolean }> {
  const answer = await waitUntil(
    async () => {
      const a = ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json);
      for (const s of a.start) {
        const j = await h.db.testJob.findUniqueOrThrow({ where: { id: s.id }, include: { actualDevice: true } });
        if (j.actualDevice?.hostname === device) return { ...s, healthCheck: j.healthCheck };
      }
      return null;
    },
    5000,
    `a job on ${device}`,
  );
  await jobCall(h, "POST", `${answer.id}/`, answer.token, { state: "RUNNING" });
  await jobCall(h, "POST", `${answer.id}/`, answer.token, { state: "FINISHED", result });
  return { id: answer.id, healthCheck: answer.healthCheck };
}

describe("scheduler", () => {
  it("schedules nothing while the worker is Offline", async () => {
    const id = await submit(h, jobYaml({ name: "waiting" }));
    await schedule(h.app.ctx);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id } })).state).toBe("Submitted");
    await h.db.testJob.update({ where: { id }, data: { state: "Finished", health: "Canceled" } });
  });

  it("orders by priority, then submit time; tags must be a subset of the device tags", async () => {
    const low = await submit(h, jobYaml({ name: "low", priority: "low" }));
    const medium1 = await submit(h, jobYaml({ name: "medium-1" }));
    const tagged = await submit(h, jobYaml({ name: "tagged", priority: 100, tags: ["fast"] }));
    const high = await submit(h, jobYaml({ name: "high", priority: 90 }));
    const medium2 = await submit(h, jobYaml({ name: "medium-2", priority: 50 }));
    const order: number[] = [];
    for (let i = 0; i < 4; i++) order.push((await runNext("qemu-01")).id);
    expect(order).toEqual([high, medium1, medium2, low]);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: tagged } })).state).toBe("Submitted");
    // give the device the tag: now the tagged job runs
    await h.db.device.update({ where: { hostname: "qemu-01" }, data: { tags: ["fast", "x86"] } });
    h.app.scheduler.trigger();
    expect((await runNext("qemu-01")).id).toBe(tagged);
  });

  it("runs the device type's health check first on an Unknown device, then user jobs", async () => {
    const user = await submit(h, jobYaml({ name: "user-on-hc", deviceType: "hc-type" }));
    const first = await runNext("hc-01");
    expect(first.healthCheck).toBe(true);
    const device = await h.db.device.findUniqueOrThrow({ where: { hostname: "hc-01" } });
    expect(device).toMatchObject({ health: "Good", lastHealthReportJobId: first.id });
    expect((await runNext("hc-01")).id).toBe(user);
  });

  it("a failed health check sets the device Bad and keeps jobs off it", async () => {
    await h.db.device.update({ where: { hostname: "hc-01" }, data: { health: "Unknown" } });
    h.app.scheduler.trigger();
    const hc = await runNext("hc-01", "fail");
    expect(hc.healthCheck).toBe(true);
    expect((await h.db.device.findUniqueOrThrow({ where: { hostname: "hc-01" } })).health).toBe("Bad");
    const id = await submit(h, jobYaml({ name: "never", deviceType: "hc-type" }));
    await schedule(h.app.ctx);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id } })).state).toBe("Submitted");
  });

  it("overlapping passes never give a device two jobs", async () => {
    await h.db.device.update({ where: { hostname: "qemu-01" }, data: { tags: [] } });
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(h, jobYaml({ name: `burst-${i}` }))));
    await Promise.all(Array.from({ length: 5 }, () => schedule(h.app.ctx)));
    const scheduled = await h.db.testJob.findMany({ where: { id: { in: ids }, state: "Scheduled" } });
    expect(scheduled).toHaveLength(1);
    expect((await h.db.device.findUniqueOrThrow({ where: { hostname: "qemu-01" } })).currentJobId).toBe(scheduled[0]!.id);
  });

  it("marks a silent worker Offline", async () => {
    const { checkWorkers } = await import("./check-workers.ts");
    await h.db.worker.update({ where: { hostname: "worker-a" }, data: { lastPing: new Date(Date.now() - 120_000) } });
    expect(await checkWorkers(h.db, 60_000, h.app.ctx.logger)).toEqual(["worker-a"]);
    expect((await h.db.worker.findUniqueOrThrow({ where: { hostname: "worker-a" } })).state).toBe("Offline");
  });
});
