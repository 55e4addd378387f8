import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ZPingResponse, type TPingJob } from "@magma/protocol";
import {
  ADMIN_TOKEN,
  WORKER_TOKEN,
  api,
  jobCall,
  jobYaml,
  ping,
  startHarness,
  submit,
  waitUntil,
  type Harness,
} from "../testing/harness.ts";
import { schedule } from "../scheduler/scheduler.ts";

const LAB = `
users:
  - {username: admin, superuser: true, tokens: [{secret: ${ADMIN_TOKEN}}]}
workers:
  - {hostname: worker-a, token: ${WORKER_TOKEN}}
device_types:
  - name: qemu
devices:
  - {hostname: qemu-01, device_type: qemu, worker: worker-a}
  - {hostname: qemu-02, device_type: qemu, worker: worker-a}
`;

/** A two-role MultiNode job: server sends, client waits. */
function multinodeYaml(opts: { clientCount?: number; name?: string; essentialServer?: boolean } = {}): string {
  return `
job_name: ${opts.name ?? "mn"}
visibility: public
timeouts: {job: {minutes: 5}}
protocols:
  lava-multinode:
    timeout: {minutes: 2}
    roles:
      client: {device_type: qemu, count: ${opts.clientCount ?? 1}}
      server: {device_type: qemu, count: 1${opts.essentialServer ? ", essential: true" : ""}}
actions:
- deploy: {role: [client, server], to: tmpfs, images: {kernel: {url: "http://example.com/vmlinuz"}}}
- boot: {role: [client, server], method: qemu, prompts: ["/ #"]}
- test:
    role: [server]
    definitions:
    - {from: inline, name: s, path: inline/s.yaml, repository: {metadata: {format: Lava-Test Test Definition 1.0, name: s}, run: {steps: [lava-send ready port=8080]}}}
- test:
    role: [client]
    definitions:
    - {from: inline, name: c, path: inline/c.yaml, repository: {metadata: {format: Lava-Test Test Definition 1.0, name: c}, run: {steps: [lava-wait ready]}}}
`;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ lab: LAB });
  await ping(h); // worker-a Online
});
afterAll(async () => {
  await h?.close();
});

async function tokens(ids: number[]): Promise<Map<number, string>> {
  return waitUntil(
    async () => {
      const a = ZPingResponse.parse((await ping(h)).json);
      const all = new Map<number, string>([...a.start, ...a.running, ...a.cancel].map((j: TPingJob) => [j.id, j.token]));
      return ids.every((id) => all.has(id)) ? all : null;
    },
    5000,
    "the sub-jobs in the worker's ping",
  );
}

const mn = (id: number, token: string, body: Record<string, unknown>) => jobCall(h, "POST", `${id}/multinode/`, token, body);

describe("MultiNode on the instance", () => {
  it("submits one sub-job per role × count, numbered N.0, N.1 in one target group, with each role's actions only", async () => {
    await h.db.device.updateMany({ data: { health: "Maintenance" } }); // keeps the group Submitted
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: multinodeYaml({ name: "split" }) } });
    expect(r.status).toBe(201);
    const subIds = r.json.job_ids as string[];
    const first = Number.parseInt(subIds[0]!, 10);
    expect(subIds).toEqual([`${first}.0`, `${first}.1`]);
    const jobs = await h.db.testJob.findMany({ where: { subId: { in: subIds } }, orderBy: { id: "asc" } });
    expect(jobs.map((j) => j.subId)).toEqual(subIds);
    expect(new Set(jobs.map((j) => j.targetGroup)).size).toBe(1);
    const client = parseYaml(jobs[0]!.definition) as {
      actions: Record<string, { role: string }>[];
      protocols: Record<string, { role: string }>;
    };
    expect(client.protocols["lava-multinode"]!.role).toBe("client");
    expect(client.actions.map((a) => Object.keys(a)[0])).toEqual(["deploy", "boot", "test"]);
    expect(JSON.stringify(client.actions)).toContain("lava-wait ready");
    expect(JSON.stringify(client.actions)).not.toContain("lava-send");
    // cancel of one sub-job cancels the whole group
    expect((await api(h, "POST", `/api/v0.2/jobs/${jobs[1]!.id}/cancel/`, { token: ADMIN_TOKEN })).status).toBe(200);
    const after = await h.db.testJob.findMany({ where: { targetGroup: jobs[0]!.targetGroup }, select: { state: true, health: true } });
    expect(after).toEqual([
      { state: "Finished", health: "Canceled" },
      { state: "Finished", health: "Canceled" },
    ]);
    await h.db.device.updateMany({ data: { health: "Good" } });
  });

  it("refuses a group the lab has too few devices for, naming the role", async () => {
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: multinodeYaml({ clientCount: 2 }) } });
    expect(r.status).toBe(400);
    expect(r.json.message ?? r.text).toContain("not enough devices of type 'qemu' (2) for 3 sub-jobs");
    expect(r.text).toContain("['roles']['client']['device_type']");
  });

  it("schedules a group all together or not at all: no device is held while one is missing", async () => {
    await h.db.device.update({ where: { hostname: "qemu-02" }, data: { health: "Maintenance" } });
    const r = await api(h, "POST", "/api/v0.2/jobs/", { token: ADMIN_TOKEN, body: { definition: multinodeYaml({ name: "together" }) } });
    const ids = (await h.db.testJob.findMany({ where: { subId: { in: r.json.job_ids } }, orderBy: { id: "asc" } })).map((j) => j.id);
    await schedule(h.app.ctx);
    const held = await h.db.testJob.findMany({ where: { id: { in: ids } }, select: { state: true, actualDeviceId: true } });
    expect(held).toEqual([
      { state: "Submitted", actualDeviceId: null },
      { state: "Submitted", actualDeviceId: null },
    ]);
    expect((await h.db.device.findUniqueOrThrow({ where: { hostname: "qemu-01" } })).state).toBe("Idle");
    // a single job may use the free device meanwhile
    const single = await submit(h, jobYaml({ name: "single" }));
    await waitUntil(
      async () => (await h.db.testJob.findUniqueOrThrow({ where: { id: single } })).state === "Scheduled",
      5000,
      "single scheduled",
    );
    await api(h, "POST", `/api/v0.2/jobs/${single}/cancel/`, { token: ADMIN_TOKEN });
    const t = await tokens([single]);
    await jobCall(h, "POST", `${single}/`, t.get(single)!, { state: "FINISHED", result: "fail", error_type: "Canceled" });

    await h.db.device.update({ where: { hostname: "qemu-02" }, data: { health: "Good" } });
    h.app.scheduler.trigger();
    const jobs = await waitUntil(
      async () => {
        const js = await h.db.testJob.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
        return js.every((j) => j.state === "Scheduled") ? js : null;
      },
      5000,
      "both sub-jobs scheduled",
    );
    expect(new Set(jobs.map((j) => j.actualDeviceId)).size).toBe(2);
    for (const j of jobs) {
      const def = parseYaml(j.definition) as { protocols: Record<string, { roles: Record<string, string> }> };
      expect(def.protocols["lava-multinode"]!.roles).toEqual({ [String(ids[0])]: "client", [String(ids[1])]: "server" });
    }

    // coordination: lava-wait blocks until the server's lava-send, and returns its pairs
    const [client, server] = ids as [number, number];
    const t2 = await tokens(ids);
    const ct = t2.get(client)!;
    const st = t2.get(server)!;
    expect((await mn(client, ct, { request: "lava_wait", messageID: "ready" })).json).toEqual({ response: "wait" });
    const waiting = mn(client, ct, { request: "lava_wait", messageID: "ready", wait_ms: 15_000 });
    expect((await mn(server, st, { request: "lava_send", messageID: "ready", message: { port: "8080" } })).json).toEqual({
      response: "ack",
    });
    expect((await waiting).json).toEqual({ response: "ack", message: { [String(server)]: { port: "8080" } } });
    // a second send of the messageID merges its pairs
    await mn(server, st, { request: "lava_send", messageID: "ready", message: { host: "srv" } });
    expect((await mn(client, ct, { request: "lava_wait_all", messageID: "ready", role: "server" })).json).toEqual({
      response: "ack",
      message: { [String(server)]: { port: "8080", host: "srv" } },
    });
    expect((await mn(client, ct, { request: "lava_wait_all", messageID: "ready" })).json.response).toBe("wait");
    expect((await mn(client, ct, { request: "lava_wait_all", messageID: "ready", role: "db" })).json.response).toBe("nack");
    // lava-sync completes once both synced
    expect((await mn(client, ct, { request: "lava_sync", messageID: "done" })).json.response).toBe("wait");
    expect((await mn(server, st, { request: "lava_sync", messageID: "done" })).json.response).toBe("ack");
    expect((await mn(client, ct, { request: "lava_sync", messageID: "done" })).json.response).toBe("ack");
    // a bad messageID is refused with the field named; another job's token is refused
    const bad = await mn(client, ct, { request: "lava_send", messageID: "a b" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("messageID");
    expect((await mn(client, st, { request: "lava_wait", messageID: "ready" })).status).toBe(401);
  });

  it("an essential role's sub-job ending Incomplete cancels the rest of its group", async () => {
    await h.db.testJob.updateMany({ where: { state: { not: "Finished" } }, data: { state: "Finished", health: "Canceled" } });
    await h.db.device.updateMany({ data: { state: "Idle", currentJobId: null } });
    const r = await api(h, "POST", "/api/v0.2/jobs/", {
      token: ADMIN_TOKEN,
      body: { definition: multinodeYaml({ name: "essential", essentialServer: true }) },
    });
    const ids = (await h.db.testJob.findMany({ where: { subId: { in: r.json.job_ids } }, orderBy: { id: "asc" } })).map((j) => j.id);
    const [client, server] = ids as [number, number];
    const t = await tokens(ids);
    await jobCall(h, "POST", `${server}/`, t.get(server)!, { state: "RUNNING" });
    await jobCall(h, "POST", `${server}/`, t.get(server)!, { state: "FINISHED", result: "fail", error_type: "Test", errors: "boom" });
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: server } })).health).toBe("Incomplete");
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: client } })).state).toBe("Canceling");
  });

  it("refuses coordination calls of a single-node job", async () => {
    await h.db.testJob.updateMany({ where: { state: { not: "Finished" } }, data: { state: "Finished", health: "Canceled" } });
    await h.db.device.updateMany({ data: { state: "Idle", currentJobId: null } });
    const single = await submit(h, jobYaml({ name: "alone" }));
    const t = await tokens([single]);
    const r = await mn(single, t.get(single)!, { request: "lava_wait", messageID: "x" });
    expect(r.status).toBe(400);
    expect(r.text).toContain("is not a MultiNode sub-job");
  });
});
