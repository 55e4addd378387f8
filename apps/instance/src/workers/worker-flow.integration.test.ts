import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZDeviceDictionary, ZJobBundle, ZJobResults, ZPingResponse, type TLogRecord } from "@magma/protocol";
import {
  ADMIN_TOKEN,
  api,
  jobCall,
  jobYaml,
  ping,
  startHarness,
  submit,
  waitUntil,
  WORKER_TOKEN,
  type Harness,
} from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  // the first ping brings the worker Online
  expect((await ping(h)).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const rec = (i: number, msg: TLogRecord["msg"] = `line ${i}`, lvl: TLogRecord["lvl"] = "info"): TLogRecord => ({
  dt: `2026-11-23T06:55:15.${String(i).padStart(6, "0")}`,
  lvl,
  msg,
});

describe("worker ping errors (as LAVA)", () => {
  it("404 unknown worker, 400 missing token, 401 bad token, 409 version mismatch", async () => {
    expect((await ping(h, { hostname: "nobody" })).status).toBe(404);
    expect((await ping(h, { hostname: "nobody" })).json.message).toBe("Unknown worker");
    const missing = await api(h, "GET", "/scheduler/internal/v1/workers/worker-a/?version=magma-1");
    expect(missing.status).toBe(400);
    expect(missing.json.message).toBe("Missing 'token'");
    expect((await ping(h, { token: "wrong-token-wrong-token" })).status).toBe(401);
    const v = await ping(h, { version: "2023.01" });
    expect(v.status).toBe(409);
    expect(v.json.message).toBe("Version mismatch '2023.01' vs 'magma-1'");
    expect((await ping(h)).status).toBe(200);
  });
});

describe("a job end to end with a scripted worker", () => {
  it("the waiting long-poll is woken by the submit and hands over the job; bundle, RUNNING, logs, results, FINISHED", async () => {
    // an idle long-poll is waiting when the job is submitted
    const t0 = Date.now();
    const polling = ping(h, { waitMs: 10_000 });
    await waitUntil(() => h.app.ctx.notifier.waitingPings("worker-a") > 0, 5000, "the long-poll to wait");
    const jobId = await submit(h, jobYaml({ name: "e2e", extra: "notify: {criteria: {status: finished}, callbacks: []}" }));
    const answer = ZPingResponse.parse((await polling).json);
    // woken by the submit, not by the poll's 10 s wait running out (the hand-over latency is a bench row)
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(answer.start).toHaveLength(1);
    const { id, token } = answer.start[0]!;
    expect(id).toBe(jobId);
    expect(token).toMatch(/^[A-Za-z0-9]{32}$/);

    // bundle: stored definition + rendered device dictionary (type defaults deep-merged with overrides)
    expect((await jobCall(h, "GET", `${id}/`, "x".repeat(32))).status).toBe(401);
    const bundle = ZJobBundle.parse((await jobCall(h, "GET", `${id}/`, token)).json);
    expect(parse(bundle.definition)).toMatchObject({ job_name: "e2e", device_type: "qemu" });
    const dict = ZDeviceDictionary.parse(parse(bundle.device));
    expect(dict).toMatchObject({
      hostname: "qemu-01",
      device_type: "qemu",
      qemu: { binary: "qemu-system-x86_64", memory_mb: 512, smp: 1 },
    });

    // RUNNING twice: one transition, device Running
    expect((await jobCall(h, "POST", `${id}/`, token, { state: "RUNNING" })).status).toBe(200);
    expect((await jobCall(h, "POST", `${id}/`, token, { state: "RUNNING" })).json).toEqual({});
    const running = await h.db.testJob.findUniqueOrThrow({ where: { id }, include: { actualDevice: true } });
    expect(running.state).toBe("Running");
    expect(running.actualDevice?.state).toBe("Running");
    expect(ZPingResponse.parse((await ping(h)).json)).toEqual({ start: [], running: [{ id, token }], cancel: [] });

    // logs: batch 0-4, replay of it, overlapping 3-7, then results
    const lines = Array.from({ length: 8 }, (_, i) => rec(i));
    const post = (index: number, batch: TLogRecord[]) => jobCall(h, "POST", `${id}/logs/`, token, { index, lines: batch });
    expect((await post(0, lines.slice(0, 5))).json).toEqual({ line_count: 5 });
    expect((await post(0, lines.slice(0, 5))).json).toEqual({ line_count: 5 });
    expect((await post(3, lines.slice(3, 8))).json).toEqual({ line_count: 5 });
    const results = [
      rec(8, { case: "validate", definition: "lava", result: "pass" }, "results"),
      rec(
        9,
        {
          case: "boot-time",
          definition: "0_smoke",
          result: "pass",
          measurement: 1.83,
          units: "seconds",
          starttc: 3,
          endtc: 5,
          set: "boot",
        },
        "results",
      ),
      rec(10, { case: "always-fail", definition: "0_smoke", result: "fail" }, "results"),
      rec(11, { case: "broken", definition: "0_smoke", result: "maybe" }, "results"),
      rec(12, { case: "job", definition: "lava", result: "pass" }, "results"),
    ];
    expect((await post(8, results)).json).toEqual({ line_count: 5 });
    expect((await post(8, results)).json).toEqual({ line_count: 5 }); // replay: nothing stored twice
    const job = await h.db.testJob.findUniqueOrThrow({ where: { id } });
    expect(job.logLineCount).toBe(13);
    const stored = await h.db.logLine.findMany({ where: { jobId: id }, orderBy: { index: "asc" } });
    expect(stored.map((l) => l.index)).toEqual([...Array(13).keys()]);
    expect(stored.slice(0, 8).map((l) => l.msg)).toEqual(lines.map((l) => l.msg));
    expect(await h.db.testCase.count({ where: { jobId: id } })).toBe(4);

    const res = ZJobResults.parse((await api(h, "GET", `/api/v0.2/jobs/${id}/results/`)).json);
    expect(res.suites.map((s) => s.name).sort()).toEqual(["0_smoke", "lava"]);
    const smoke = res.suites.find((s) => s.name === "0_smoke")!;
    expect(smoke.tests).toBe(2);
    expect(smoke.cases.find((c) => c.name === "boot-time")).toMatchObject({
      result: "pass",
      measurement: "1.83",
      unit: "seconds",
      test_set: "boot",
      start_log_line: 3,
      end_log_line: 5,
    });
    expect(res.suites.find((s) => s.name === "lava")!.cases.map((c) => c.name)).toEqual(["validate", "job"]);
    const tests = await api(h, "GET", `/api/v0.2/jobs/${id}/tests/?limit=2`);
    expect(tests.json.count).toBe(4);
    expect(tests.json.next).toContain("offset=2");

    // log reads: LAVA YAML text by default, JSON on request
    const yamlLog = await api(h, "GET", `/api/v0.2/jobs/${id}/logs/?start=8&end=10`);
    expect(yamlLog.headers.get("content-type")).toContain("application/yaml");
    expect(yamlLog.text).toBe(
      '- {"dt": "2026-11-23T06:55:15.000008", "lvl": "results", "msg": {"case": "validate", "definition": "lava", "result": "pass"}}\n' +
        '- {"dt": "2026-11-23T06:55:15.000009", "lvl": "results", "msg": {"case": "boot-time", "definition": "0_smoke", "result": "pass", "measurement": 1.83, "units": "seconds", "starttc": 3, "endtc": 5, "set": "boot"}}\n',
    );
    const jsonLog = await api(h, "GET", `/api/v0.2/jobs/${id}/logs/?start=1&end=3`, { headers: { accept: "application/json" } });
    expect(jsonLog.json).toEqual([
      { line: 1, ...lines[1] },
      { line: 2, ...lines[2] },
    ]);

    // FINISHED twice: one transition, device Idle
    const fin = { state: "FINISHED", result: "pass", error_type: "", errors: "", description: "" };
    expect((await jobCall(h, "POST", `${id}/`, token, fin)).status).toBe(200);
    const first = await h.db.testJob.findUniqueOrThrow({ where: { id } });
    expect((await jobCall(h, "POST", `${id}/`, token, { ...fin, result: "fail", error_type: "Infrastructure" })).status).toBe(200);
    const done = await h.db.testJob.findUniqueOrThrow({ where: { id }, include: { actualDevice: true } });
    expect(done).toMatchObject({ state: "Finished", health: "Complete", errorType: null });
    expect(done.endTime).toEqual(first.endTime);
    expect(done.actualDevice).toMatchObject({ state: "Idle", health: "Good", currentJobId: null });
  });

  it("streams the log as SSE, resumes with Last-Event-ID, ends when the job is Finished", async () => {
    const jobId = await submit(h, jobYaml({ name: "stream" }));
    const { token } = ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start[0]!;
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 0, lines: [rec(0), rec(1)] });

    const res = await fetch(`${h.baseUrl}/api/v0.2/jobs/${jobId}/logs/stream/`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 5000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`stream never sent ${needle}: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("id: 1\n");
    const t = Date.now();
    await jobCall(h, "POST", `${jobId}/logs/`, token, { index: 2, lines: [rec(2)] });
    await readUntil("id: 2\n");
    expect(Date.now() - t).toBeLessThan(1000);
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
    await readUntil("event: end");
    const events = text.split("\n\n").filter((e) => e.startsWith("event: line"));
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]!.split("data: ")[1]!)).toEqual({ line: 2, ...rec(2) });

    const resumed = await fetch(`${h.baseUrl}/api/v0.2/jobs/${jobId}/logs/stream/`, { headers: { "last-event-id": "1" } });
    const all = await resumed.text(); // the job is Finished: the stream ends by itself
    expect(all.match(/event: line/g)).toHaveLength(1);
    expect(all).toContain("id: 2\n");
    expect(all).toContain("event: end");
  });
});

describe("log ingest under concurrency and LAVA's form encoding", () => {
  it("concurrent overlapping uploads store each line once; form bodies (lines=<YAML>&index=N) work", async () => {
    const jobId = await submit(h, jobYaml({ name: "concurrent-logs" }));
    const { token } = ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start[0]!;
    const lines = Array.from({ length: 50 }, (_, i) => rec(i));
    const uploads = await Promise.all(Array.from({ length: 8 }, () => jobCall(h, "POST", `${jobId}/logs/`, token, { index: 0, lines })));
    expect(uploads.every((u) => u.json.line_count === 50)).toBe(true);
    const form = new URLSearchParams({ index: "50", lines: '- {"dt": "2026-11-23T06:55:16.000000", "lvl": "target", "msg": "/ # "}\n' });
    const r = await api(h, "POST", `/scheduler/internal/v1/jobs/${jobId}/logs/`, {
      headers: { "lava-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(r.json).toEqual({ line_count: 1 });
    expect(await h.db.logLine.count({ where: { jobId } })).toBe(51);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: jobId } })).logLineCount).toBe(51);
    const fin = new URLSearchParams({ state: "FINISHED", result: "pass", error_type: "", errors: "", description: "" });
    const f = await api(h, "POST", `/scheduler/internal/v1/jobs/${jobId}/`, {
      headers: { "lava-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: fin.toString(),
    });
    expect(f.status).toBe(200);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: jobId } })).health).toBe("Complete");
    const bad = await jobCall(h, "POST", `${jobId}/`, token, { state: "DONE" });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("INVALID_REQUEST");
  });
});

describe("cancel", () => {
  it("a Running job goes Canceling, the waiting ping answers at once, FINISHED makes it Canceled", async () => {
    const jobId = await submit(h, jobYaml({ name: "cancel-running" }));
    const { token } = ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start[0]!;
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    const polling = ping(h, { waitMs: 10_000 });
    await waitUntil(() => h.app.ctx.notifier.waitingPings("worker-a") > 0, 5000, "the long-poll to wait");
    const t = Date.now();
    expect((await api(h, "POST", `/api/v0.2/jobs/${jobId}/cancel/`, { token: ADMIN_TOKEN })).status).toBe(200);
    const answer = ZPingResponse.parse((await polling).json);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(answer.cancel).toEqual([{ id: jobId, token }]);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: jobId } })).state).toBe("Canceling");
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "fail", error_type: "Canceled" });
    const done = await h.db.testJob.findUniqueOrThrow({ where: { id: jobId }, include: { actualDevice: true } });
    expect(done).toMatchObject({ state: "Finished", health: "Canceled" });
    expect(done.actualDevice?.state).toBe("Idle");
  });

  it("a Scheduled job goes Canceling and is listed in cancel", async () => {
    const jobId = await submit(h, jobYaml({ name: "cancel-scheduled" }));
    await waitUntil(() => h.db.testJob.findFirst({ where: { id: jobId, state: "Scheduled" } }));
    await api(h, "POST", `/api/v0.2/jobs/${jobId}/cancel/`, { token: ADMIN_TOKEN });
    const answer = ZPingResponse.parse((await ping(h)).json);
    expect(answer.start).toEqual([]);
    expect(answer.cancel.map((c) => c.id)).toEqual([jobId]);
    const { token } = answer.cancel[0]!;
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
    expect(await h.db.testJob.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ state: "Finished", health: "Canceled" });
  });

  it("an infrastructure error sets the device health Unknown (no health check: still schedulable)", async () => {
    const jobId = await submit(h, jobYaml({ name: "infra" }));
    const { token } = ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start[0]!;
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/`, token, {
      state: "FINISHED",
      result: "fail",
      error_type: "Infrastructure",
      errors: "power cycle failed",
    });
    const done = await h.db.testJob.findUniqueOrThrow({ where: { id: jobId }, include: { actualDevice: true } });
    expect(done).toMatchObject({ health: "Incomplete", errorType: "Infrastructure", failureComment: "power cycle failed" });
    expect(done.actualDevice?.health).toBe("Unknown");
    const next = await submit(h, jobYaml({ name: "after-infra" }));
    expect(ZPingResponse.parse((await ping(h, { waitMs: 2000 })).json).start.map((s) => s.id)).toEqual([next]);
    expect(WORKER_TOKEN).toBeTruthy();
  });
});
