/**
 * Device administration and health (LAVA's device health transitions, job-lifecycle.md §3, §4):
 * dictionaries through REST, set_health, health checks before user jobs, Bad devices skipped,
 * Maintenance → Unknown runs the health check first, health checks every N jobs, Looping, and a
 * silent worker's devices unusable until it pings again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZDeviceDictionary, ZJobBundle, ZPingResponse } from "@magma/protocol";
import {
  ADMIN_TOKEN,
  BOB_TOKEN,
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
import { checkWorkers } from "../scheduler/check-workers.ts";

const HC = `
      job_name: bbb health check
      device_type: beaglebone-black
      visibility: public
      timeouts: {job: {minutes: 5}}
      actions:
      - deploy: {to: tftp, kernel: {url: "http://example.com/zImage", type: zimage}}
      - boot: {method: u-boot, commands: ramdisk, prompts: ["root@bbb:~# "]}`;

const LAB = `
users:
  - {username: admin, superuser: true, tokens: [{secret: ${ADMIN_TOKEN}}]}
  - {username: bob, tokens: [{secret: ${BOB_TOKEN}}]}
workers:
  - {hostname: worker-a, token: ${WORKER_TOKEN}}
device_types:
  - name: beaglebone-black
    health_frequency: 2
    health_denominator: jobs
    health_check: |${HC}
    dictionary:
      bootloader_prompt: "=> "
      interrupt_prompt: Hit any key to stop autoboot
      boot_commands: {ramdisk: ["tftp {KERNEL_ADDR} {KERNEL}", "{BOOTX}"]}
      power_command_timeout_seconds: 20
devices:
  - {hostname: bbb-01, device_type: beaglebone-black, worker: worker-a, health: Unknown, dictionary: {connection_command: telnet 127.0.0.1 7001}}
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ lab: LAB });
});
afterAll(async () => {
  await h?.close();
});

/** Plays the worker: takes the next started job on bbb-01 and finishes it with `result`. */
async function runNext(result: "pass" | "fail" = "pass", errorType?: string): Promise<{ id: number; healthCheck: boolean }> {
  const answer = await waitUntil(
    async () => {
      const a = ZPingResponse.parse((await ping(h, { waitMs: 500 })).json);
      return a.start[0] ?? null;
    },
    5000,
    "a started job",
  );
  const job = await h.db.testJob.findUniqueOrThrow({ where: { id: answer.id } });
  await jobCall(h, "POST", `${answer.id}/`, answer.token, { state: "RUNNING" });
  await jobCall(h, "POST", `${answer.id}/`, answer.token, {
    state: "FINISHED",
    result,
    ...(errorType ? { error_type: errorType, errors: "boom" } : {}),
  });
  return { id: answer.id, healthCheck: job.healthCheck };
}
const health = async () => (await h.db.device.findUniqueOrThrow({ where: { hostname: "bbb-01" } })).health;
const setHealth = (value: string, token = ADMIN_TOKEN) =>
  api(h, "POST", "/api/v0.2/devices/bbb-01/set_health/", { token, body: { health: value, reason: "test" } });
const bbbJob = (name: string) => jobYaml({ name, deviceType: "beaglebone-black" });

describe("device dictionary REST", () => {
  it("GET shows the device's keys, the type defaults and the rendered dictionary; PUT replaces the keys (superuser only)", async () => {
    const got = await api(h, "GET", "/api/v0.2/devices/bbb-01/dictionary/", { token: ADMIN_TOKEN });
    expect(got.status).toBe(200);
    expect(got.json.dictionary).toEqual({ connection_command: "telnet 127.0.0.1 7001" });
    expect(got.json.device_type_defaults.bootloader_prompt).toBe("=> ");
    const dict = {
      connection_command: "telnet 127.0.0.1 7002",
      power_on_command: "pdu on 7",
      hard_reset_command: ["pdu off 7", "pdu on 7"],
      boot_commands: { ramdisk: ["{BOOTX}"] },
    };
    const put = await api(h, "PUT", "/api/v0.2/devices/bbb-01/dictionary/", { token: ADMIN_TOKEN, body: { dictionary: dict } });
    expect(put.status).toBe(200);
    const rendered = ZDeviceDictionary.parse(parse(put.json.rendered));
    // device keys win, type defaults fill the rest (deep merge; a device list replaces the type's)
    expect(rendered).toMatchObject({
      hostname: "bbb-01",
      device_type: "beaglebone-black",
      connection_command: "telnet 127.0.0.1 7002",
      bootloader_prompt: "=> ",
      power_command_timeout_seconds: 20,
      boot_commands: { ramdisk: ["{BOOTX}"] },
    });
    // YAML text, as lavacli sends
    const yaml = await api(h, "PUT", "/api/v0.2/devices/bbb-01/dictionary/", {
      token: ADMIN_TOKEN,
      body: "connection_command: telnet 127.0.0.1 7001\nserial: {path: /dev/ttyUSB0}\n",
      headers: { "content-type": "application/yaml" },
    });
    expect(yaml.status).toBe(200);
    expect(yaml.json.dictionary).toEqual({ connection_command: "telnet 127.0.0.1 7001", serial: { path: "/dev/ttyUSB0" } });
    expect(ZDeviceDictionary.parse(parse(yaml.json.rendered)).serial).toEqual({ path: "/dev/ttyUSB0", baud: 115200 });
  });

  it("refuses bad keys (naming them), non-admins and unknown devices", async () => {
    const bad = await api(h, "PUT", "/api/v0.2/devices/bbb-01/dictionary/", {
      token: ADMIN_TOKEN,
      body: { dictionary: { power_on_command: 7, serial: { baud: 9600 } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("dictionary.power_on_command");
    expect(bad.json.message).toContain("dictionary.serial.path");
    expect(
      (await api(h, "PUT", "/api/v0.2/devices/bbb-01/dictionary/", { token: ADMIN_TOKEN, body: { dictionary: { hostname: "x" } } })).status,
    ).toBe(400);
    expect((await api(h, "PUT", "/api/v0.2/devices/bbb-01/dictionary/", { token: BOB_TOKEN, body: { dictionary: {} } })).status).toBe(403);
    expect((await api(h, "GET", "/api/v0.2/devices/bbb-01/dictionary/", {})).status).toBe(401);
    expect((await api(h, "GET", "/api/v0.2/devices/nope/dictionary/", { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await setHealth("Sparkling")).status).toBe(400);
    expect((await setHealth("Good", BOB_TOKEN)).status).toBe(403);
  });
});

describe("device health and health checks", () => {
  it("runs the health check first on an Unknown device; the rendered dictionary reaches the worker", async () => {
    const user = await submit(h, bbbJob("user-1"));
    const hc = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 500 })).json).start[0] ?? null,
      5000,
      "health check",
    );
    const bundle = ZJobBundle.parse((await jobCall(h, "GET", `${hc.id}/`, hc.token)).json);
    expect(ZDeviceDictionary.parse(parse(bundle.device))).toMatchObject({
      connection_command: "telnet 127.0.0.1 7001",
      interrupt_prompt: "Hit any key to stop autoboot",
    });
    await jobCall(h, "POST", `${hc.id}/`, hc.token, { state: "RUNNING" });
    await jobCall(h, "POST", `${hc.id}/`, hc.token, { state: "FINISHED", result: "pass" });
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: hc.id } })).healthCheck).toBe(true);
    expect(await health()).toBe("Good");
    expect((await runNext()).id).toBe(user);
  });

  it("runs the health check again after health_frequency (2) jobs", async () => {
    const second = await submit(h, bbbJob("user-2"));
    expect((await runNext()).id).toBe(second);
    const third = await submit(h, bbbJob("user-3"));
    const next = await runNext();
    expect(next.healthCheck).toBe(true);
    expect((await runNext()).id).toBe(third);
  });

  it("a device in Maintenance gets no jobs; back to Unknown, it runs its health check before the queued job", async () => {
    const r = await setHealth("MAINTENANCE");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ previous: "Good", health: "Maintenance", changed: true });
    const queued = await submit(h, bbbJob("waits-for-maintenance"));
    await schedule(h.app.ctx);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: queued } })).state).toBe("Submitted");
    expect((await setHealth("unknown")).json).toMatchObject({ previous: "Maintenance", health: "Unknown" });
    const first = await runNext();
    expect(first.healthCheck).toBe(true);
    expect(await health()).toBe("Good");
    expect((await runNext()).id).toBe(queued);
  });

  it("a failed health check sets the device Bad and it receives no jobs until an admin acts", async () => {
    await setHealth("Unknown");
    const hc = await runNext("fail", "Infrastructure");
    expect(hc.healthCheck).toBe(true);
    expect(await health()).toBe("Bad");
    const id = await submit(h, bbbJob("never-on-bad"));
    await schedule(h.app.ctx);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id } })).state).toBe("Submitted");
    expect((await ping(h)).json.start).toEqual([]);
    await h.db.testJob.update({ where: { id }, data: { state: "Finished", health: "Canceled" } });
  });

  it("Looping runs health checks back to back and keeps the device Looping whatever their result", async () => {
    await setHealth("Looping");
    expect((await runNext("fail")).healthCheck).toBe(true);
    expect(await health()).toBe("Looping");
    expect((await runNext("pass")).healthCheck).toBe(true);
    expect(await health()).toBe("Looping");
    // out of the loop: Maintenance first (set under the device's row lock, so a health check a
    // pass scheduled before is committed by now), finish that one, then Good
    await setHealth("Maintenance");
    const pending = await h.db.testJob.count({ where: { state: { in: ["Scheduled", "Running"] } } });
    for (let i = 0; i < pending; i++) await runNext();
    await setHealth("Good");
  });

  it("an infrastructure error on a user job sets the device Unknown, so a health check runs next", async () => {
    const user = await submit(h, bbbJob("infra-fails"));
    const ran = await runNext("fail", "Infrastructure");
    expect(ran).toMatchObject({ id: user, healthCheck: false });
    expect(await health()).toBe("Unknown");
    expect((await runNext()).healthCheck).toBe(true);
    expect(await health()).toBe("Good");
  });

  it("with health_denominator hours, a health check older than health_frequency hours runs again first", async () => {
    await h.db.deviceType.update({ where: { name: "beaglebone-black" }, data: { healthDenominator: "hours", healthFrequency: 1 } });
    const last = (await h.db.device.findUniqueOrThrow({ where: { hostname: "bbb-01" } })).lastHealthReportJobId!;
    await h.db.testJob.update({ where: { id: last }, data: { submitTime: new Date(Date.now() - 2 * 3_600_000) } });
    const user = await submit(h, bbbJob("after-an-old-health-check"));
    expect((await runNext()).healthCheck).toBe(true);
    expect((await runNext()).id).toBe(user);
  });

  it("a worker that stops pinging goes Offline: its devices get nothing until it pings again", async () => {
    await h.db.worker.update({ where: { hostname: "worker-a" }, data: { lastPing: new Date(Date.now() - 120_000) } });
    expect(await checkWorkers(h.db, 60_000, h.app.ctx.logger)).toEqual(["worker-a"]);
    const id = await submit(h, bbbJob("after-offline"));
    await schedule(h.app.ctx);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id } })).state).toBe("Submitted");
    // the worker returns: Online, a scheduling pass, the job is started on its device
    expect((await runNext()).id).toBe(id);
    expect((await h.db.worker.findUniqueOrThrow({ where: { hostname: "worker-a" } })).state).toBe("Online");
  });
});
