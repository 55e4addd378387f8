import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZJobBundle, ZPingResponse } from "@magma/protocol";
import { ADMIN_TOKEN, BOB_TOKEN, api, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

// Lab administration as a LAVA admin does it: Debian's real lavacli 1.2 (/usr/bin/lavacli) adds a
// device type, a worker and a device, sets a jinja2 device dictionary and device-type template and a
// health check; Python's own xmlrpc.client (what lavacli is built on) calls what lavacli 1.2 has no
// command for (devices/workers delete, auth.users.*, auth.groups.*).
const LAVACLI = "/usr/bin/lavacli";
const run = promisify(execFile);
const data = (f: string) => readFileSync(join(import.meta.dirname, "testdata", f), "utf8");

let h: Harness;
let home: string;
const env = () => ({ PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), LC_ALL: "C.UTF-8" });

async function lavacli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(LAVACLI, args, { env: env(), timeout: 20_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : -1, out: (x.stdout ?? "") + (x.stderr ?? "") };
  }
}
const file = (name: string, text: string) => {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
};

/**
 * XML-RPC calls with Python's xmlrpc.client, in one process (python3 starts slowly on a loaded
 * machine): per call `{value}` or `{fault: {code, message}}`.
 */
const PY = `
import json, sys, xmlrpc.client
proxy = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
out = []
for method, params in json.loads(sys.argv[2]):
    try:
        out.append({"value": getattr(proxy, method)(*params)})
    except xmlrpc.client.Fault as f:
        out.append({"fault": {"code": f.faultCode, "message": f.faultString}})
print(json.dumps(out, default=str))
`;
type RpcOutcome = { value?: unknown; fault?: { code: number; message: string } };
async function rpcs(user: "admin" | "bob", calls: [string, ...unknown[]][]): Promise<RpcOutcome[]> {
  const token = user === "admin" ? ADMIN_TOKEN : BOB_TOKEN;
  const uri = h.baseUrl.replace("http://", `http://${user}:${token}@`) + "/RPC2";
  const r = await run("python3", ["-c", PY, uri, JSON.stringify(calls.map(([m, ...p]) => [m, p]))], { env: env(), timeout: 60_000 });
  return JSON.parse(r.stdout) as RpcOutcome[];
}
const rpc = async (user: "admin" | "bob", method: string, ...params: unknown[]) => (await rpcs(user, [[method, ...params]]))[0]!;

const DICT = `{% extends 'qemu-lab.jinja2' %}
{% set memory = 1024 %}
{% set connection_command = 'telnet localhost 7001' %}
{% set extra_options = ['-no-reboot'] %}
`;
/** A LAVA-style device-type template of our own, on top of the shipped qemu.jinja2. */
const TYPE_TEMPLATE = `{# device_type: qemu-lab #}
{% extends 'qemu.jinja2' %}
{% set cpus = cpus | default(2) %}
{% set machine = machine | default('q35,accel=tcg') %}
`;
const HC = data("qemu-boot-only.yaml")
  .replace("device_type: qemu", "device_type: qemu-lab")
  .replace("job_name: fixture qemu boot only", "job_name: qemu-lab health check");
let workerToken = "";

beforeAll(async () => {
  h = await startHarness();
  home = mkdtempSync(join(tmpdir(), "magma-lavacli-admin-"));
  for (const [id, user, token] of [
    ["default", "admin", ADMIN_TOKEN],
    ["bob", "bob", BOB_TOKEN],
  ] as const)
    expect(await lavacli("identities", "add", "--uri", `${h.baseUrl}/RPC2`, "--username", user, "--token", token, id)).toEqual({
      code: 0,
      out: "",
    });
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("lavacli builds a lab: device type, worker, device, jinja2 dictionary, health check", { timeout: 180_000 }, () => {
  it("device-types add/update and template set|get (jinja2)", async () => {
    expect(
      await lavacli(
        "device-types",
        "add",
        "qemu-lab",
        "--description",
        "QEMU in the lab",
        "--health-frequency",
        "12",
        "--health-denominator",
        "jobs",
      ),
    ).toEqual({
      code: 0,
      out: "",
    });
    expect(await lavacli("device-types", "update", "qemu-lab", "--description", "QEMU DUTs, rack 2")).toEqual({ code: 0, out: "" });
    const shown = parse((await lavacli("device-types", "show", "--yaml", "qemu-lab")).out) as Record<string, unknown>;
    expect(shown).toMatchObject({
      name: "qemu-lab",
      description: "QEMU DUTs, rack 2",
      health_frequency: 12,
      health_denominator: "jobs",
      devices: [],
    });
    expect((await lavacli("device-types", "add", "qemu-lab")).out).toContain(
      "<Fault 400: 'Bad request: device-type name is already used.'>",
    );
    expect(await lavacli("device-types", "template", "set", "qemu-lab", file("qemu-lab.jinja2", TYPE_TEMPLATE))).toEqual({
      code: 0,
      out: "",
    });
    expect(await lavacli("device-types", "template", "get", "qemu-lab")).toEqual({ code: 0, out: TYPE_TEMPLATE.trimEnd() + "\n" });
    const broken = await lavacli(
      "device-types",
      "template",
      "set",
      "qemu-lab",
      file("broken.jinja2", "{% extends 'qemu.jinja2' %}{% block body %}"),
    );
    expect(broken.out).toContain("Fault 400");
    expect(broken.out).toContain("invalid jinja2 template");
  });

  it("workers add/update; the token workers.add returns is the worker's", async () => {
    expect(await lavacli("workers", "add", "worker-b", "--description", "rack 2")).toEqual({ code: 0, out: "" });
    expect((await lavacli("workers", "add", "worker-b")).out).toContain("<Fault 400: 'Bad request: worker already exists?'>");
    expect(await lavacli("workers", "update", "worker-b", "--job-limit", "1")).toEqual({ code: 0, out: "" });
    // (text output: lavacli's --yaml reads last_ping.value and fails for a worker that never pinged, on LAVA too)
    expect((await lavacli("workers", "show", "worker-b")).out).toMatch(
      /^hostname {4}: worker-b\ndescription : rack 2\nstate {7}: Offline\nhealth {6}: Active\ndevices {5}: \nlast ping {3}: None\njob limit {3}: 1\n/,
    );
    // lavacli drops workers.add's return value; Python's client sees the one-time token
    const added = await rpc("admin", "scheduler.workers.add", "worker-c", "spare", false);
    workerToken = String(added.value);
    expect(workerToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect((await ping(h, { hostname: "worker-c", token: workerToken })).status).toBe(200);
    expect((await ping(h, { hostname: "worker-c", token: "not-the-token-0123456789" })).status).toBe(401);
  });

  it("devices add; dict set|get with LAVA's jinja2 (extends + set), rendered as the worker gets it", async () => {
    expect(
      await lavacli("devices", "add", "qemu-lab-01", "--type", "qemu-lab", "--worker", "worker-c", "--description", "first lab DUT"),
    ).toEqual({
      code: 0,
      out: "",
    });
    expect((await lavacli("devices", "add", "qemu-lab-01", "--type", "qemu-lab", "--worker", "worker-c")).out).toContain(
      "device already exists?",
    );
    expect((await lavacli("devices", "add", "qemu-lab-02", "--type", "nope", "--worker", "worker-c")).out).toContain(
      `<Fault 404: "DeviceType 'nope' was not found.">`,
    );
    expect(await lavacli("devices", "update", "qemu-lab-01", "--health", "MAINTENANCE")).toEqual({ code: 0, out: "" });
    expect(await lavacli("devices", "dict", "set", "qemu-lab-01", file("qemu-lab-01.jinja2", DICT))).toEqual({ code: 0, out: "" });
    expect(await lavacli("devices", "dict", "get", "qemu-lab-01")).toEqual({ code: 0, out: DICT.trimEnd() + "\n" });
    // a new type template that this device's dictionary would no longer render with is refused, naming the device
    const breaking = "{% extends 'qemu.jinja2' %}\n{% if memory > 1000 %}{% set memory = 'too much' %}{% endif %}\n";
    const refused = await lavacli("device-types", "template", "set", "qemu-lab", file("breaking.jinja2", breaking));
    expect(refused.out).toContain("Fault 400");
    expect(refused.out).toContain("device 'qemu-lab-01' would no longer render");
    expect((await lavacli("device-types", "template", "get", "qemu-lab")).out).toBe(TYPE_TEMPLATE.trimEnd() + "\n");
    // lavacli reads a field of an unrendered dictionary from the jinja2 `set` statements itself
    expect(await lavacli("devices", "dict", "get", "qemu-lab-01", "memory")).toEqual({ code: 0, out: "1024\n" });
    const rendered = parse((await lavacli("devices", "dict", "get", "--render", "qemu-lab-01")).out) as Record<string, unknown>;
    expect(rendered).toEqual({
      qemu: { binary: "qemu-system-x86_64", machine: "q35,accel=tcg", memory_mb: 1024, smp: 2, extra_options: ["-no-reboot"] },
      connection_command: "telnet localhost 7001",
      hostname: "qemu-lab-01",
      device_type: "qemu-lab",
    });
    expect(await lavacli("devices", "dict", "get", "--render", "qemu-lab-01", "qemu.smp")).toEqual({ code: 0, out: "2\n" });
    const show = parse((await lavacli("devices", "show", "--yaml", "qemu-lab-01")).out) as Record<string, unknown>;
    expect(show).toMatchObject({
      hostname: "qemu-lab-01",
      device_type: "qemu-lab",
      worker: "worker-c",
      has_device_dict: true,
      health: "Maintenance",
    });
  });

  it("a dictionary that would escape the template sandbox or read files is refused, naming why", async () => {
    const cases: [string, string][] = [
      [
        "{% extends 'qemu.jinja2' %}{% set x = range.constructor('return process')() %}",
        "calling a method (x.f()) is not allowed in a device template",
      ],
      ["{% extends 'qemu.jinja2' %}{% set x = range.constructor %}", "the attribute 'constructor' is not allowed"],
      ["{% extends 'qemu.jinja2' %}{% set k = 'constr' ~ 'uctor' %}{% set x = range[k] %}", "a computed lookup (a[b]) is not allowed"],
      ["{% extends '../../../etc/passwd' %}", "is not a device-type template name"],
      ["{% extends 'missing.jinja2' %}", "Device-type template 'missing.jinja2' was not found"],
      ["{% extends 'qemu.jinja2' %}{% set memory = 'lots' %}", "dictionary.qemu.memory_mb"],
      ["{% extends 'qemu.jinja2' %}{% set power_on_command = 7 %}", "dictionary.power_on_command"],
    ];
    for (const [text, why] of cases) {
      const r = await lavacli("devices", "dict", "set", "qemu-lab-01", file("bad.jinja2", text));
      expect(r.out, text).toContain("Fault 400");
      expect(r.out, text).toContain(why);
    }
    // nothing was stored: the good dictionary is still there
    expect((await lavacli("devices", "dict", "get", "qemu-lab-01")).out).toBe(DICT.trimEnd() + "\n");
  });

  it("health-check set|get; the device's first health check carries the rendered jinja2 dictionary", async () => {
    expect((await lavacli("device-types", "health-check", "get", "qemu-lab")).out).toContain("Fault 404");
    expect(await lavacli("device-types", "health-check", "set", "qemu-lab", file("hc.yaml", HC))).toEqual({ code: 0, out: "" });
    expect(await lavacli("device-types", "health-check", "get", "qemu-lab")).toEqual({ code: 0, out: HC.trimEnd() + "\n" });
    expect(parse((await lavacli("devices", "show", "--yaml", "qemu-lab-01")).out)).toMatchObject({ health_job: true });
    // back from maintenance: health Unknown → the scheduler runs the health check first, as LAVA
    expect(await lavacli("devices", "update", "qemu-lab-01", "--health", "UNKNOWN")).toEqual({ code: 0, out: "" });
    const start = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { hostname: "worker-c", token: workerToken, waitMs: 1000 })).json).start[0],
      20_000,
      "the health check to be handed to worker-c",
    );
    const bundle = ZJobBundle.parse((await jobCall(h, "GET", `${start.id}/`, start.token)).json);
    expect(parse(bundle.device)).toMatchObject({
      hostname: "qemu-lab-01",
      qemu: { memory_mb: 1024, smp: 2, extra_options: ["-no-reboot"] },
    });
    expect(parse(bundle.definition)).toMatchObject({ job_name: "qemu-lab health check", device_type: "qemu-lab" });
    const job = parse((await lavacli("jobs", "show", "--yaml", String(start.id))).out) as Record<string, unknown>;
    expect(job).toMatchObject({ health_check: true, device: "qemu-lab-01" });
    // a device running a job is not deleted under it
    const busy = await rpcs("admin", [
      ["scheduler.devices.delete", "qemu-lab-01"],
      ["scheduler.workers.delete", "worker-c"],
    ]);
    expect(busy.map((b) => b.fault?.code)).toEqual([409, 409]);
    expect((await jobCall(h, "POST", `${start.id}/`, start.token, { state: "RUNNING" })).status).toBe(200);
    expect(
      (
        await jobCall(h, "POST", `${start.id}/`, start.token, {
          state: "FINISHED",
          result: "pass",
          error_type: "",
          errors: "",
          description: "",
        })
      ).status,
    ).toBe(200);
    await waitUntil(
      async () => (await h.db.device.findUniqueOrThrow({ where: { hostname: "qemu-lab-01" } })).state === "Idle",
      10_000,
      "the device to be idle",
    );
  });

  it("a non-superuser is refused every write with LAVA's fault; anonymous gets 401", async () => {
    const bob = (...a: string[]) => lavacli("-i", "bob", ...a);
    expect((await bob("device-types", "add", "x")).out).toContain(
      `<Fault 403: "User 'bob' is missing permission lava_scheduler_app.change_devicetype.">`,
    );
    expect((await bob("workers", "add", "x")).out).toContain(
      `<Fault 403: "User 'bob' is missing permission lava_scheduler_app.add_worker.">`,
    );
    expect((await bob("devices", "add", "x", "--type", "qemu-lab", "--worker", "worker-b")).out).toContain(
      `<Fault 403: "User 'bob' is missing permission lava_scheduler_app.change_device.">`,
    );
    expect((await bob("devices", "dict", "set", "qemu-lab-01", file("d.jinja2", DICT))).out).toContain("<Fault 403: 'Permission denied.'>");
    expect((await bob("device-types", "health-check", "set", "qemu-lab", file("hc2.yaml", HC))).out).toContain(
      "<Fault 403: 'Permission denied.'>",
    );
    expect((await bob("device-types", "template", "set", "qemu-lab", file("t2.jinja2", TYPE_TEMPLATE))).out).toContain(
      "<Fault 403: 'Permission denied.'>",
    );
    const refused = await rpcs("bob", [
      ["scheduler.devices.delete", "qemu-lab-01"],
      ["scheduler.workers.delete", "worker-b"],
      ["auth.users.list"],
      ["auth.groups.add", "x"],
    ]);
    expect(refused.map((r) => r.fault)).toEqual(
      ["lava_scheduler_app.delete_device", "lava_scheduler_app.delete_worker", "auth.view_user", "auth.add_group"].map((p) => ({
        code: 403,
        message: `User 'bob' is missing permission ${p}.`,
      })),
    );
    const anon = await lavacli("--uri", `${h.baseUrl}/RPC2`, "workers", "add", "x");
    expect(anon.out).toContain("<Fault 401: 'Authentication with user and token required for this API.'>");
    // nothing was created
    expect((await lavacli("workers", "list")).out).toBe("Workers:\n* worker-a\n* worker-b\n* worker-c\n");
  });

  it("devices.delete and workers.delete (LAVA 2024+)", async () => {
    expect(
      await rpcs("admin", [
        ["scheduler.devices.delete", "qemu-lab-01"],
        ["scheduler.devices.delete", "qemu-lab-01"],
      ]),
    ).toEqual([{ value: null }, { fault: { code: 404, message: "Device 'qemu-lab-01' was not found." } }]);
    expect((await lavacli("devices", "list")).out).toBe("Devices:\n* qemu-01 (qemu): Idle,Good\n");
    // the health check it ran keeps its history
    expect(await h.db.testJob.count({ where: { healthCheck: true } })).toBe(1);
    expect(
      await rpcs("admin", [
        ["scheduler.workers.delete", "worker-c"],
        ["scheduler.workers.delete", "worker-c"],
      ]),
    ).toEqual([{ value: null }, { fault: { code: 404, message: "Worker 'worker-c' was not found." } }]);
    expect((await ping(h, { hostname: "worker-c", token: workerToken })).status).not.toBe(200);
    expect((await lavacli("workers", "list")).out).toBe("Workers:\n* worker-a\n* worker-b\n");
  });
});

describe("auth.users.* and auth.groups.* (LAVA 2023.10+)", { timeout: 180_000 }, () => {
  it("users add/show/list/update/delete and groups add/list/show/delete, with LAVA's faults", async () => {
    await submit(h, jobYaml({ name: "bob's job" }), BOB_TOKEN);
    const user = (u: string) => ({
      username: u,
      last_name: "",
      first_name: "",
      is_superuser: u !== "bob",
      is_staff: false,
      is_active: true,
    });
    const r = await rpcs("admin", [
      ["auth.users.add", "carol"],
      ["auth.users.add", "carol"],
      ["auth.users.add", "dave", null, null, "dave@example.com"],
      ["auth.users.add", "bad name!"],
      ["auth.users.update", "carol", null, null, null, null, null, true],
      ["auth.users.list"],
      ["auth.groups.add", "lab-admins"],
      ["auth.groups.add", "lab-admins"],
      ["auth.users.groups.add", "carol", "lab-admins"],
      ["auth.users.groups.add", "bob", "testers"],
      ["auth.users.show", "carol"],
      ["auth.groups.list"],
      ["auth.groups.show", "testers"],
      ["auth.users.groups.list", "bob"],
      ["auth.users.groups.delete", "bob", "testers"],
      ["auth.users.groups.delete", "bob", "nope"],
      ["auth.groups.perms.add", "testers", "lava_scheduler_app", "device", "change_device"],
      ["auth.groups.delete", "testers"],
      ["auth.groups.delete", "testers"],
      ["auth.users.delete", "carol"],
      ["auth.users.show", "carol"],
      ["auth.users.delete", "carol"],
      ["auth.users.delete", "bob"],
    ]);
    expect(r[0]).toEqual({ value: null });
    expect(r[1]).toEqual({ fault: { code: 400, message: "Bad request: user already exists?" } });
    expect(r[2]).toEqual({ fault: { code: 400, message: "Invalid argument 'email': Magma stores no email (leave it empty)" } });
    expect(r[3]!.fault?.code).toBe(400);
    expect(r[4]).toEqual({ value: null });
    expect((r[5]!.value as { username: string }[]).filter((u) => u.username !== "lava-health")).toEqual(
      ["admin", "bob", "carol"].map(user),
    );
    expect(r[6]).toEqual({ value: null });
    expect(r[7]).toEqual({ fault: { code: 400, message: "Bad request: group already exists?" } });
    expect(r[8]).toEqual({ value: null });
    expect(r[9]).toEqual({ value: null }); // "testers" created, as LAVA's get_or_create
    expect(r[10]!.value).toMatchObject({
      username: "carol",
      is_superuser: true,
      groups: ["lab-admins"],
      permissions: [],
      is_active: true,
      email: "",
    });
    expect(r[11]).toEqual({ value: ["lab-admins", "testers"] });
    expect(r[12]!.value).toMatchObject({ name: "testers", users: ["bob"], permissions: [] });
    expect(r[13]).toEqual({ value: ["testers"] });
    expect(r[14]).toEqual({ value: null });
    expect(r[15]).toEqual({ fault: { code: 404, message: "Group 'nope' was not found." } });
    expect(r[16]!.fault?.code).toBe(400);
    expect(r[16]!.fault?.message).toContain("no per-object permissions");
    expect(r[17]).toEqual({ value: null });
    expect(r[18]).toEqual({ fault: { code: 404, message: "Bad request: group does not exists" } });
    expect(r[19]).toEqual({ value: null });
    expect(r[20]).toEqual({ fault: { code: 404, message: "User 'carol' was not found." } });
    expect(r[21]).toEqual({ fault: { code: 404, message: "Bad request: user does not exists" } });
    // bob submitted a job: the job keeps its submitter
    expect(r[22]!.fault).toEqual({
      code: 400,
      message: "User 'bob' submitted jobs and cannot be deleted (the jobs keep their submitter)",
    });
    const methods = (await rpc("admin", "system.listMethods")).value as string[];
    expect(methods).toEqual(
      expect.arrayContaining(["auth.users.add", "auth.groups.show", "scheduler.devices.delete", "scheduler.workers.delete"]),
    );
  });

  it("the REST dictionary route shows a jinja2 dictionary and its rendering", async () => {
    const r = await api(h, "PUT", "/api/v0.2/devices/qemu-01/dictionary/", {
      token: ADMIN_TOKEN,
      body: "{% extends 'qemu.jinja2' %}\n{% set memory = 768 %}\n",
      headers: { "content-type": "text/plain" },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ hostname: "qemu-01", dictionary: {}, jinja2: "{% extends 'qemu.jinja2' %}\n{% set memory = 768 %}\n" });
    expect(parse(r.json.rendered)).toMatchObject({ qemu: { memory_mb: 768, binary: "qemu-system-x86_64" }, hostname: "qemu-01" });
  });
});
