import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZPingResponse } from "@magma/protocol";
import { createInstanceDb } from "@magma/db/instance";
import { buildApp } from "../app.ts";
import { createLogger } from "../logger.ts";
import { api, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The value of one sample of the Prometheus text `text` (name and labels as printed), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("operations endpoints", () => {
  it("/healthz and /readyz answer while the database is up", async () => {
    expect(await api(h, "GET", "/healthz")).toMatchObject({ status: 200, json: { status: "ok" } });
    expect(await api(h, "GET", "/readyz")).toMatchObject({ status: 200, json: { status: "ready" } });
  });

  it("/metrics reports jobs by state, queue depth, scheduling passes, log lines, outbox backlog and worker pings", async () => {
    const first = await api(h, "GET", "/metrics");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("text/plain");
    expect(sample(first.text, "magma_instance_jobs", { state: "Submitted", instance: h.config.name })).toBe(0);
    expect(first.text).toContain("magma_instance_process_resident_memory_bytes");

    // a job that waits: the device type has devices, but the worker never pinged, so they are offline
    const waiting = await submit(h, jobYaml({ name: "waits" }));
    let m = (await api(h, "GET", "/metrics")).text;
    expect(sample(m, "magma_instance_queue_depth")).toBeGreaterThanOrEqual(0);
    expect(sample(m, "magma_instance_jobs", { state: "Submitted" })! + sample(m, "magma_instance_jobs", { state: "Scheduled" })!).toBe(1);

    // the worker comes: the job is handed over, runs, uploads 3 log lines and finishes
    const start = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 500 })).json).start.find((s) => s.id === waiting),
      15_000,
      "the job to start",
    );
    expect((await jobCall(h, "POST", `${waiting}/`, start.token, { state: "RUNNING" })).status).toBe(200);
    const lines = [0, 1, 2].map((i) => ({ dt: "2026-12-01T10:00:00.000000", lvl: "info", msg: `line ${i}` }));
    expect((await jobCall(h, "POST", `${waiting}/logs/`, start.token, { index: 0, lines })).json).toEqual({ line_count: 3 });
    expect(
      (
        await jobCall(h, "POST", `${waiting}/`, start.token, {
          state: "FINISHED",
          result: "pass",
          error_type: "",
          errors: "",
          description: "",
        })
      ).status,
    ).toBe(200);

    m = (await api(h, "GET", "/metrics")).text;
    expect(sample(m, "magma_instance_jobs", { state: "Finished" })).toBe(1);
    expect(sample(m, "magma_instance_queue_depth")).toBe(0);
    expect(sample(m, "magma_instance_log_lines_ingested_total")).toBe(3);
    expect(sample(m, "magma_instance_scheduler_pass_seconds_count")).toBeGreaterThan(0);
    const lastPing = sample(m, "magma_instance_worker_last_ping_timestamp_seconds", { worker: "worker-a" });
    expect(lastPing).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(sample(m, "magma_instance_outbox_backlog")).toBeGreaterThanOrEqual(0);
    expect(sample(m, "magma_instance_outbox_oldest_age_seconds")).toBeGreaterThanOrEqual(0);
  });

  it("/readyz answers 503 naming the database when it does not answer; /healthz stays 200", async () => {
    const db = createInstanceDb("postgresql://postgres@127.0.0.1:5432/magma_ops_test_no_such_database", 1);
    const app = await buildApp({ db, config: h.config, logger: createLogger("silent"), startLoops: false });
    try {
      expect((await app.server.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      const r = await app.server.inject({ method: "GET", url: "/readyz" });
      expect(r.statusCode).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ status: "unready", reason: expect.stringMatching(/^database: /) });
    } finally {
      await app.close();
      await db.$disconnect();
    }
  });
});
