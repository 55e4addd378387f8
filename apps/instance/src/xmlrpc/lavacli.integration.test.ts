import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZPingResponse, type TLogRecord } from "@magma/protocol";
import { ADMIN_TOKEN, WORKER_TOKEN, api, jobCall, ping, startHarness, waitUntil, type Harness } from "../testing/harness.ts";
import { INSTANCE_VERSION } from "../devices/list-inventory.ts";

// Drives Debian's real lavacli 1.2 (/usr/bin/lavacli) against a running instance, and compares its
// output with the fixtures in testdata/ (see testdata/README.md).
const LAVACLI = "/usr/bin/lavacli";
const run = promisify(execFile);
const data = (f: string) => readFileSync(join(import.meta.dirname, "testdata", f), "utf8");

let h: Harness;
let home: string;
// PYTHONUNBUFFERED: a following `jobs logs` prints each batch as it comes, as on a terminal
const env = () => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  LC_ALL: "C.UTF-8",
  PYTHONUNBUFFERED: "1",
});

/** Runs lavacli (async: the server lives in this process); never throws on a non-zero exit. */
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
 * A job log in LAVA's output.yaml format, one record per line. LAVA's dumper writes non-string scalars
 * as `! "58"` and PyYAML (lavacli) reads them back as numbers; a worker sends them as JSON numbers.
 */
const JOB3_RECORDS: TLogRecord[] = data("inline-tests-output.yaml")
  .split("\n")
  .filter(Boolean)
  .map((l) => (parse(l.replace(/! "(-?\d+(?:\.\d+)?)"/g, "$1")) as TLogRecord[])[0]!);

/** Plays the worker for the next scheduled job: start, RUNNING, returns its token. */
async function startNextJob(jobId: number): Promise<string> {
  const answer = await waitUntil(
    async () => {
      const r = ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json);
      return r.start.find((s) => s.id === jobId);
    },
    15_000,
    `job ${jobId} to be handed to the worker`,
  );
  expect((await jobCall(h, "POST", `${jobId}/`, answer.token, { state: "RUNNING" })).status).toBe(200);
  return answer.token;
}
/** Cancels every unfinished job and plays the worker's FINISHED for them, so the device is free again. */
async function settle(): Promise<void> {
  for (const j of await h.db.testJob.findMany({ where: { state: { not: "Finished" } }, select: { id: true } })) {
    await api(h, "POST", `/api/v0.2/jobs/${j.id}/cancel/`, { token: ADMIN_TOKEN });
  }
  await waitUntil(
    async () => {
      const r = ZPingResponse.parse((await ping(h)).json);
      for (const c of [...r.cancel, ...r.running]) await finish(c.id, c.token);
      return (await h.db.testJob.count({ where: { state: { not: "Finished" } } })) === 0;
    },
    10_000,
    "every job to be finished",
  );
}
const upload = (jobId: number, token: string, index: number, lines: TLogRecord[]) =>
  jobCall(h, "POST", `${jobId}/logs/`, token, { index, lines });
const finish = (jobId: number, token: string) =>
  jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass", error_type: "", errors: "", description: "" });

let job3: number;

beforeAll(async () => {
  h = await startHarness();
  home = mkdtempSync(join(tmpdir(), "magma-lavacli-"));
  expect((await ping(h)).status).toBe(200);
  const r = await lavacli("identities", "add", "--uri", `${h.baseUrl}/RPC2`, "--username", "admin", "--token", ADMIN_TOKEN, "default");
  expect(r).toEqual({ code: 0, out: "" });
  // the inline-tests job, its log replayed by a scripted worker
  const submitted = await lavacli("jobs", "submit", file("inline.yaml", data("qemu-inline-tests.yaml")));
  expect(submitted.code).toBe(0);
  job3 = Number(submitted.out.trim());
  const token = await startNextJob(job3);
  for (let i = 0; i < JOB3_RECORDS.length; i += 200)
    expect((await upload(job3, token, i, JOB3_RECORDS.slice(i, i + 200))).text).toBe(
      `{"line_count":${JOB3_RECORDS.slice(i, i + 200).length}}`,
    );
  expect((await finish(job3, token)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("lavacli system", () => {
  it("version, whoami, api", async () => {
    expect(await lavacli("system", "version")).toEqual({ code: 0, out: `${INSTANCE_VERSION}\n` });
    expect(await lavacli("system", "whoami")).toEqual({ code: 0, out: "admin\n" });
    expect(await lavacli("system", "api")).toEqual({ code: 0, out: "2\n" });
  });

  it("a wrong token is refused with 401 as LAVA; anonymous may read but not submit", async () => {
    const bad = await lavacli("--uri", `${h.baseUrl.replace("http://", "http://admin:wrong@")}/RPC2`, "system", "whoami");
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("401");
    expect(await lavacli("--uri", `${h.baseUrl}/RPC2`, "system", "whoami")).toEqual({ code: 0, out: "<AnonymousUser>\n" });
    const anon = await lavacli("--uri", `${h.baseUrl}/RPC2`, "jobs", "submit", file("anon.yaml", data("qemu-boot-only.yaml")));
    expect(anon.out).toContain("<Fault 401: 'Authentication with user and token required for this API.'>");
  });
});

describe("lavacli jobs on a finished job (the inline-tests log replayed)", () => {
  it("jobs logs prints every record as lavacli does for LAVA", async () => {
    const r = await lavacli("jobs", "logs", "--no-follow", String(job3));
    expect(r.code).toBe(0);
    expect(r.out).toBe(data("inline-tests-lavacli-jobs-logs.txt"));
  });

  it("jobs logs --start/--end and --raw", async () => {
    const r = await lavacli("jobs", "logs", "--raw", "--start", "1", "--end", "3", String(job3));
    expect(r).toEqual({
      code: 0,
      out: '- {"dt": "2026-11-20T09:30:00.027400", "lvl": "info", "msg": "start: 0 validate"}\n- {"dt": "2026-11-20T09:30:00.041100", "lvl": "info", "msg": "Start time: 2026-11-20 09:30:00.041100+00:00 (UTC)"}\n',
    });
  });

  it("results, results SUITE, results SUITE CASE (+ --yaml) as LAVA", async () => {
    expect(await lavacli("results", String(job3))).toEqual({ code: 0, out: data("inline-tests-lavacli-results.txt") });
    const suite = await lavacli("results", String(job3), "0_smoke");
    expect(suite.out).toBe(
      "Results:\n* 0_smoke.always-pass [pass]\n* 0_smoke.always-fail [fail]\n* 0_smoke.explicit-skip [skip]\n* 0_smoke.boot-time [pass]\n* 0_smoke.loopback-up [pass]\n* 0_smoke.kernel-version [pass]\n",
    );
    expect(await lavacli("results", String(job3), "0_smoke", "always-fail")).toEqual({ code: 0, out: "fail\n" });
    const y = await lavacli("results", "--yaml", String(job3), "0_smoke", "boot-time");
    expect(y.code).toBe(0);
    const [c] = parse(y.out) as Record<string, unknown>[];
    // as LAVA: log_start_line/log_end_line from the result's starttc/endtc, measurement '1.83…', every value a string
    expect(c).toMatchObject({
      job: String(job3),
      level: "",
      log_end_line: "61",
      log_start_line: "61",
      name: "boot-time",
      result: "pass",
      suite: "0_smoke",
      unit: "seconds",
      metadata: { case: "boot-time", definition: "0_smoke", measurement: 1.83, result: "pass", units: "seconds" },
    });
    expect(Number(c!["measurement"])).toBeCloseTo(1.83);
    expect(String(c!["url"])).toMatch(/^\/results\/testcase\/\d+$/);
    const missing = await lavacli("results", String(job3), "0_smoke", "nope");
    expect(missing.out).toContain("Fault 404");
  });

  it("jobs show (+ --yaml) and jobs definition", async () => {
    const s = await lavacli("jobs", "show", String(job3));
    expect(s.code).toBe(0);
    const lines = s.out.split("\n");
    expect(lines.slice(0, 12)).toEqual([
      `id          : ${job3}`,
      "description : fixture qemu inline tests",
      "submitter   : admin",
      "device-type : qemu",
      "device      : qemu-01",
      "health-check: False",
      "state       : Finished",
      "Health      : Complete",
      "pipeline    : True",
      "tags        : []",
      "visibility  : Public",
      expect.stringMatching(/^submit time : \d{8}T\d\d:\d\d:\d\d$/),
    ]);
    const y = parse((await lavacli("jobs", "show", "--yaml", String(job3))).out) as Record<string, unknown>;
    expect(Object.keys(y).sort()).toEqual([
      "description",
      "device",
      "device_type",
      "end_time",
      "error_msg",
      "error_type",
      "failure_comment",
      "health",
      "health_check",
      "id",
      "pipeline",
      "start_time",
      "state",
      "submit_time",
      "submitter",
      "tags",
      "visibility",
    ]);
    expect(y).toMatchObject({
      id: job3,
      state: "Finished",
      health: "Complete",
      failure_comment: null,
      visibility: "Public",
      pipeline: true,
    });
    expect(String(y["end_time"])).toMatch(/^\d{8}T\d\d:\d\d:\d\d$/);
    const def = await lavacli("jobs", "definition", String(job3));
    expect(def).toEqual({ code: 0, out: data("qemu-inline-tests.yaml") + "\n" });
    expect((await lavacli("jobs", "show", "999999")).out).toContain(`<Fault 404: "Job '999999' was not found.">`);
  });
});

describe("lavacli jobs submit/validate/list/queue/cancel/resubmit/wait", () => {
  it("validate: valid exits 0 silently; invalid exits 1 with LAVA's key/msg", async () => {
    expect(await lavacli("jobs", "validate", file("ok.yaml", data("qemu-boot-only.yaml")))).toEqual({ code: 0, out: "" });
    const bad = file("novis.yaml", data("qemu-boot-only.yaml").replace("visibility: public\n", ""));
    expect(await lavacli("jobs", "validate", bad)).toEqual({ code: 1, out: "key: ['visibility']\nmsg: required key not provided\n" });
    const uboot = file("fastboot.yaml", data("qemu-boot-only.yaml").replace("method: qemu", "method: fastboot"));
    const r = await lavacli("jobs", "validate", uboot);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^key: \['actions', 1, 'boot', 'method'\]\nmsg: .+\n$/);
  });

  it("submit several files; an invalid one prints LAVA's fault and the others still go in", async () => {
    const bad = file("bad.yaml", data("qemu-boot-only.yaml").replace("visibility: public\n", ""));
    const r = await lavacli(
      "jobs",
      "submit",
      file("a.yaml", data("qemu-boot-only.yaml")),
      bad,
      file("b.yaml", data("qemu-boot-only.yaml")),
    );
    expect(r.code).toBe(0); // lavacli itself exits 0 here, against LAVA too
    const lines = r.out.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d+$/);
    expect(lines[1]).toBe(
      `Unable to submit ${bad}: <Fault 400: "Problem with submitted job data: required key not provided @ data['visibility']">`,
    );
    expect(lines[2]).toMatch(/^\d+$/);
    const unknownType = await lavacli(
      "jobs",
      "submit",
      file("x.yaml", data("qemu-boot-only.yaml").replace("device_type: qemu", "device_type: qemu-x")),
    );
    expect(unknownType.out).toContain("<Fault 404: 'Specified device or device type not found.'>");
  });

  it("list (--state --health --start --limit --yaml) and queue", async () => {
    const all = await lavacli("jobs", "list", "--limit", "3");
    expect(all.code).toBe(0);
    const lines = all.out.trimEnd().split("\n");
    expect(lines[0]).toBe("Jobs (from 1 to 3):");
    expect(lines.slice(1).every((l) => /^\* \d+: \w+,\w+ \[admin\] \(.+\) - qemu$/.test(l))).toBe(true);
    const ids = lines.slice(1).map((l) => Number(/^\* (\d+)/.exec(l)![1]));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const fin = await lavacli("jobs", "list", "--state", "FINISHED", "--health", "COMPLETE", "--limit", "5");
    expect(fin.out).toBe(`Jobs (from 1 to 5):\n* ${job3}: Finished,Complete [admin] (fixture qemu inline tests) - qemu\n`);
    const y = parse((await lavacli("jobs", "list", "--yaml", "--start", "1", "--limit", "2")).out) as Record<string, unknown>[];
    expect(y).toHaveLength(2);
    expect(Object.keys(y[0]!).sort()).toEqual(["description", "device_type", "health", "id", "state", "submitter"]);
    expect(y[0]!["id"]).toBe(ids[1]);
    const q = await lavacli("jobs", "queue", "qemu");
    expect(q.code).toBe(0);
    expect(q.out.split("\n")[0]).toBe("Jobs (from 1 to 25):");
    expect(q.out).toMatch(/\* \d+: admin \(fixture qemu boot only\) - qemu/);
  });

  it("cancel a queued job; resubmit it; wait for a job that a worker finishes", async () => {
    const id = Number((await lavacli("jobs", "submit", file("c.yaml", data("qemu-boot-only.yaml")))).out.trim());
    expect(await lavacli("jobs", "cancel", String(id))).toEqual({ code: 0, out: "" });
    const shown = parse((await lavacli("jobs", "show", "--yaml", String(id))).out) as Record<string, unknown>;
    expect(shown).toMatchObject({ state: "Finished", health: "Canceled" });
    const re = await lavacli("jobs", "resubmit", String(id));
    expect(re.code).toBe(0);
    const newId = Number(re.out.trim());
    expect(newId).toBeGreaterThan(id);
    expect(await lavacli("jobs", "definition", String(newId))).toEqual({ code: 0, out: data("qemu-boot-only.yaml") + "\n" });
    // cancel everything queued with one lavacli call, then free the device
    const queued = (parse((await lavacli("jobs", "queue", "--yaml", "--limit", "100")).out) as { id: number }[]).map((j) => String(j.id));
    expect(queued.length).toBeGreaterThan(0);
    expect(await lavacli("jobs", "cancel", ...queued)).toEqual({ code: 0, out: "" });
    await settle();

    const waited = Number((await lavacli("jobs", "submit", file("w.yaml", data("qemu-boot-only.yaml")))).out.trim());
    const token = await startNextJob(waited);
    const waiting = lavacli("jobs", "wait", "--polling", "1", String(waited));
    await finish(waited, token);
    const w = await waiting;
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/^(Running\.*\n)?$/);
  });

  it("jobs logs follows a running job until it finishes", async () => {
    await settle();
    const id = Number((await lavacli("jobs", "submit", file("f.yaml", data("qemu-boot-only.yaml")))).out.trim());
    const token = await startNextJob(id);
    await upload(id, token, 0, JOB3_RECORDS.slice(0, 2));
    const child = spawn(LAVACLI, ["jobs", "logs", "--polling", "1", String(id)], { env: env() });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    await waitUntil(() => out.includes("start: 0 validate"), 10_000, "the first lines");
    await upload(id, token, 2, JOB3_RECORDS.slice(2, 4));
    await finish(id, token);
    expect(await exited).toBe(0);
    expect(out).toBe(data("inline-tests-lavacli-jobs-logs.txt").split("\n").slice(0, 4).join("\n") + "\n");
  });
});

describe("lavacli devices, device-types, workers, tags, aliases", () => {
  it("devices list/show/dict get/dict set/tags", async () => {
    expect(await lavacli("devices", "list")).toEqual({ code: 0, out: "Devices:\n* qemu-01 (qemu): Idle,Good\n" });
    const show = await lavacli("devices", "show", "qemu-01");
    expect(show.out).toBe(
      "name        : qemu-01\ndevice-type : qemu\nstate       : Idle\nhealth      : Good\nhealth job  : False\ndescription : None\npipeline    : True\ndevice-dict : True\nworker      : worker-a\ncurrent job : None\ntags        : []\n",
    );
    expect(await lavacli("devices", "dict", "get", "qemu-01")).toEqual({ code: 0, out: "qemu:\n  memory_mb: 512\n" });
    const rendered = await lavacli("devices", "dict", "get", "--render", "qemu-01", "qemu.memory_mb");
    expect(rendered).toEqual({ code: 0, out: "512\n" });
    expect(await lavacli("devices", "dict", "set", "qemu-01", file("dict.yaml", "qemu:\n  memory_mb: 1024\n"))).toEqual({
      code: 0,
      out: "",
    });
    expect((await lavacli("devices", "dict", "get", "qemu-01")).out).toBe("qemu:\n  memory_mb: 1024\n");
    // jinja2 dictionaries render in a sandbox (lavacli-admin.integration.test.ts covers them): an escape is refused
    const jinja = await lavacli("devices", "dict", "set", "qemu-01", file("dict.jinja2", "{{ range.constructor('return 1')() }}\n"));
    expect(jinja.out).toContain("Fault 400");
    expect(jinja.out).toContain("calling a method (x.f()) is not allowed in a device template");
    expect(await lavacli("devices", "tags", "add", "qemu-01", "big-ram")).toEqual({ code: 0, out: "" });
    expect(await lavacli("devices", "tags", "list", "qemu-01")).toEqual({ code: 0, out: "Tags:\n* big-ram\n" });
    expect((await lavacli("devices", "show", "--yaml", "qemu-01")).out).toContain("tags: [big-ram]");
  });

  it("device-types list/show/template get|set/health-check get|set", async () => {
    expect(await lavacli("device-types", "list")).toEqual({ code: 0, out: "Device-Types:\n* qemu (1)\n" });
    expect((await lavacli("device-types", "show", "qemu")).out).toBe(
      "name            : qemu\ndescription     : None\ndisplay         : True\nhealth disabled : False\naliases         : []\ndevices         : ['qemu-01']\n",
    );
    expect((await lavacli("device-types", "template", "get", "qemu")).out).toBe(
      "qemu:\n  binary: qemu-system-x86_64\n  memory_mb: 256\n  smp: 1\n",
    );
    expect(
      await lavacli("device-types", "template", "set", "qemu", file("t.yaml", "qemu: {binary: qemu-system-x86_64, memory_mb: 384}\n")),
    ).toEqual({ code: 0, out: "" });
    expect((await lavacli("device-types", "template", "get", "qemu")).out).toBe("qemu:\n  binary: qemu-system-x86_64\n  memory_mb: 384\n");
    expect((await lavacli("device-types", "health-check", "get", "qemu")).out).toContain("Fault 404");
    const hc = data("qemu-boot-only.yaml").replace("job_name: fixture qemu boot only", "job_name: qemu health check");
    expect(await lavacli("device-types", "health-check", "set", "qemu", file("hc.yaml", hc))).toEqual({ code: 0, out: "" });
    expect(await lavacli("device-types", "health-check", "get", "qemu")).toEqual({ code: 0, out: hc.trimEnd() + "\n" });
    const badHc = await lavacli("device-types", "health-check", "set", "qemu", file("badhc.yaml", "job_name: x\n"));
    expect(badHc.out).toContain("Fault 400");
    // put the device type back without a health check for the other tests
    await h.db.deviceType.update({ where: { name: "qemu" }, data: { healthCheckDefinition: null } });
  });

  it("workers list/show/maintenance/update", async () => {
    await settle();
    expect(await lavacli("workers", "list")).toEqual({ code: 0, out: "Workers:\n* worker-a\n" });
    const show = await lavacli("workers", "show", "worker-a");
    expect(show.out).toMatch(
      /^hostname    : worker-a\ndescription : None\nstate       : Online\nhealth      : Active\ndevices     : qemu-01\nlast ping   : \d{8}T\d\d:\d\d:\d\d\njob limit   : 0\nversion     : .+\n$/,
    );
    // no token line: the instance keeps only the worker token's digest (LAVA prints the token to superusers)
    expect(show.out).not.toContain(WORKER_TOKEN);
    expect(await lavacli("workers", "maintenance", "worker-a")).toEqual({ code: 0, out: "" });
    expect((parse((await lavacli("workers", "show", "--yaml", "worker-a")).out) as Record<string, unknown>)["health"]).toBe("Maintenance");
    expect(
      await lavacli("workers", "update", "worker-a", "--health", "ACTIVE", "--description", "QEMU worker", "--job-limit", "2"),
    ).toEqual({ code: 0, out: "" });
    expect(parse((await lavacli("workers", "show", "--yaml", "worker-a")).out) as Record<string, unknown>).toMatchObject({
      health: "Active",
      description: "QEMU worker",
      job_limit: 2,
    });
  });

  it("tags list/add and aliases list", async () => {
    expect(await lavacli("tags", "list")).toEqual({ code: 0, out: "Tags:\n* big-ram\n" });
    expect(await lavacli("tags", "add", "usb", "--description", "has a USB stick")).toEqual({ code: 0, out: "" });
    expect(await lavacli("tags", "list")).toEqual({ code: 0, out: "Tags:\n* big-ram\n* usb (has a USB stick)\n" });
    expect((await lavacli("tags", "add", "usb")).code).not.toBe(0);
    expect(await lavacli("aliases", "list")).toEqual({ code: 0, out: "Aliases:\n" });
  });
});

describe("REST api/v0.2 LAVA exports of the same job, resubmit, OpenAPI", () => {
  it("csv/ has LAVA's columns and rows; yaml/ equals the XML-RPC export; junit/ counts as LAVA's", async () => {
    const csv = await api(h, "GET", `/api/v0.2/jobs/${job3}/csv/`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("application/csv");
    expect(csv.headers.get("content-disposition")).toBe(`attachment; filename=job_${job3}.csv`);
    const rows = csv.text.split("\r\n");
    expect(rows[0]).toBe(
      '"job","suite","result","measurement","unit","duration","timeout","logged","level","metadata","url","name","id","log_start_line","log_end_line"',
    );
    expect(rows.find((r) => r.includes('"explicit-skip"'))).toMatch(
      new RegExp(
        `^"${job3}","0_smoke","skip","None","","","","\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)?\\+00:00","","\\{'case': 'explicit-skip', 'definition': '0_smoke', 'endtc': 58, 'result': 'skip', 'starttc': 58\\}","/results/testcase/\\d+","explicit-skip","\\d+","58","58"$`,
      ),
    );
    expect(rows.filter(Boolean)).toHaveLength(18);
    const yaml = await api(h, "GET", `/api/v0.2/jobs/${job3}/yaml/`);
    expect(yaml.headers.get("content-type")).toContain("application/yaml");
    const viaCli = await lavacli("results", "--json", String(job3));
    if (viaCli.code !== 0) throw new Error(viaCli.out);
    expect(parse(yaml.text)).toEqual(JSON.parse(viaCli.out));
    const junit = await api(h, "GET", `/api/v0.2/jobs/${job3}/junit/`);
    expect(junit.text).toMatch(
      /^<\?xml version="1.0" encoding="utf-8"\?>\n<testsuites disabled="0" errors="0" failures="1" tests="17" time="[\d.]+">/,
    );
    expect(junit.text).toContain('<testsuite disabled="0" errors="0" failures="1" name="0_smoke" skipped="1" tests="6"');
    // as LAVA: the failure's text is the log between the case's starttc and endtc lines
    const at = (n: number) =>
      `- {&quot;dt&quot;: &quot;${JOB3_RECORDS[n]!.dt}&quot;, &quot;lvl&quot;: &quot;${JOB3_RECORDS[n]!.lvl}&quot;, &quot;msg&quot;: &quot;${String(JOB3_RECORDS[n]!.msg).replace("<", "&lt;").replace(">", "&gt;")}&quot;}\n`;
    expect(junit.text).toContain(`<failure type="failure" message="failed">${at(51)}${at(52)}</failure>`);
    expect(at(51)).toContain("Received signal: &lt;STARTTC&gt; always-fail");
    expect(junit.text).toContain('<testcase name="login-action" time="3.100000"');
  });

  it("resubmit/ answers 201 with the new id; openapi.json describes the routes", async () => {
    expect((await api(h, "POST", `/api/v0.2/jobs/${job3}/resubmit/`)).status).toBe(401);
    const r = await api(h, "POST", `/api/v0.2/jobs/${job3}/resubmit/`, { token: ADMIN_TOKEN });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ message: "job(s) successfully submitted", job_ids: [expect.any(Number)] });
    const doc = await api(h, "GET", "/api/v0.2/openapi.json");
    expect(doc.json.openapi).toBe("3.1.0");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(["/api/v0.2/jobs/", "/api/v0.2/jobs/{id}/resubmit/", "/api/v0.2/jobs/{id}/junit/"]),
    );
    expect(doc.json.components.schemas.JobDetail.properties).toHaveProperty("original_definition");
    await settle();
  });
});
