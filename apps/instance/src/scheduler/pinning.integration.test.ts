import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, jobYaml, startHarness, submit, waitUntil, WORKER_TOKEN, type Harness } from "../testing/harness.ts";
import { schedule } from "./scheduler.ts";

// `device:` / `worker:` in a job definition (LAVA 2025+): checked at submission with LAVA's
// messages, honoured by the scheduler on a real database.
const LAB = `
users:
  - username: admin
    superuser: true
    tokens: [{secret: ${ADMIN_TOKEN}, description: admin}]
workers:
  - hostname: worker-a
    token: ${WORKER_TOKEN}
  - hostname: worker-b
    token: ${WORKER_TOKEN}-b
device_types:
  - name: qemu
    dictionary: {qemu: {binary: qemu-system-x86_64, memory_mb: 256, smp: 1}}
  - name: other
    dictionary: {qemu: {binary: qemu-system-x86_64, memory_mb: 256, smp: 1}}
devices:
  - hostname: qemu-01
    device_type: qemu
    worker: worker-a
  - hostname: qemu-02
    device_type: qemu
    worker: worker-b
  - hostname: other-01
    device_type: other
    worker: worker-a
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ lab: LAB });
  await h.db.device.updateMany({ data: { health: "Good" } });
});
afterAll(async () => {
  await h?.close();
});

const submitError = async (extra: string) => {
  const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: jobYaml({ extra }) } });
  expect(r.status).toBe(400);
  return r.text;
};

describe("device: and worker: pinning", () => {
  it("refuses unknown or mismatched devices and workers at submission, naming the key", async () => {
    expect(await submitError("device: nosuch")).toContain("Device 'nosuch' does not exist. @ data['device']");
    expect(await submitError("worker: nosuch")).toContain("Worker 'nosuch' does not exist. @ data['worker']");
    expect(await submitError("device: other-01")).toContain("Device 'other-01' is not of type 'qemu'. @ data['device']");
    expect(await submitError("device: qemu-01\nworker: worker-b")).toContain(
      "Device 'qemu-01' is not attached to worker 'worker-b'. @ data['device']",
    );
    expect(await submitError("device: ''")).toContain("device must not be empty @ data['device']");
  });

  it("schedules a pinned job only on its device, and a worker-pinned job only on that worker's devices", async () => {
    const onB = await submit(h, jobYaml({ name: "on-qemu-02", priority: "high", extra: "device: qemu-02" }));
    const onA = await submit(h, jobYaml({ name: "on-worker-a", priority: "low", extra: "worker: worker-a" }));
    expect(await h.db.testJob.findUniqueOrThrow({ where: { id: onB } })).toMatchObject({ requestedWorkerId: expect.any(Number) });
    // only worker-a is online: the high-priority job pinned to qemu-02 waits, the low one runs on qemu-01
    await h.db.worker.update({ where: { hostname: "worker-a" }, data: { state: "Online", lastPing: new Date() } });
    await schedule(h.app.ctx);
    h.app.scheduler.trigger();
    const a = await waitUntil(
      async () => {
        const j = await h.db.testJob.findUniqueOrThrow({ where: { id: onA }, include: { actualDevice: true } });
        return j.state === "Scheduled" ? j : null;
      },
      5000,
      "the worker-a job scheduled",
    );
    expect(a.actualDevice?.hostname).toBe("qemu-01");
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: onB } })).state).toBe("Submitted");
    // worker-b comes online: the pinned job goes to qemu-02
    await h.db.worker.update({ where: { hostname: "worker-b" }, data: { state: "Online", lastPing: new Date() } });
    await schedule(h.app.ctx);
    h.app.scheduler.trigger();
    const b = await waitUntil(
      async () => {
        const j = await h.db.testJob.findUniqueOrThrow({ where: { id: onB }, include: { actualDevice: true } });
        return j.state === "Scheduled" ? j : null;
      },
      5000,
      "the qemu-02 job scheduled",
    );
    expect(b.actualDevice?.hostname).toBe("qemu-02");
  });
});
