import { expect, test } from "@playwright/test";
import { stackInfo } from "./stack-info.ts";

// Runs after the job specs (files run in name order): every process of the stack serves /healthz,
// /readyz and Prometheus /metrics, and the metrics reflect the jobs that ran.

/** The value of the first sample of `name` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url);
  return { status: r.status, text: await r.text() };
}

test("instances, workers and the frontend serve healthz, readyz and metrics that reflect the jobs run", async () => {
  const s = stackInfo();
  for (const lab of s.labs) {
    expect(await get(`${lab.url}/healthz`)).toEqual({ status: 200, text: '{"status":"ok"}' });
    expect(await get(`${lab.url}/readyz`)).toEqual({ status: 200, text: '{"status":"ready"}' });
    const m = (await get(`${lab.url}/metrics`)).text;
    expect(sample(m, "magma_instance_jobs", { state: "Finished", instance: lab.name }), lab.name).toBeGreaterThanOrEqual(1);
    expect(sample(m, "magma_instance_log_lines_ingested_total"), lab.name).toBeGreaterThan(100);
    // the last callbacks were acknowledged moments ago: the sender marks them delivered right after
    await expect
      .poll(async () => sample((await get(`${lab.url}/metrics`)).text, "magma_instance_outbox_backlog"), { timeout: 30_000 })
      .toBe(0);
    expect(sample(m, "magma_instance_worker_last_ping_timestamp_seconds", { worker: `${lab.name}-worker` }), lab.name).toBeGreaterThan(
      Date.now() / 1000 - 120,
    );

    const w = lab.workerMetricsUrl!;
    expect(w, `${lab.name} worker metrics URL`).toBeTruthy();
    expect((await get(`${w}/healthz`)).status).toBe(200);
    expect((await get(`${w}/readyz`)).status).toBe(200);
    const wm = (await get(`${w}/metrics`)).text;
    expect(sample(wm, "magma_worker_running_jobs", { worker: `${lab.name}-worker` })).toBe(0);
    expect(sample(wm, "magma_worker_qemu_processes")).toBe(0);
    expect(sample(wm, "magma_worker_log_backlog_lines")).toBe(0);
  }

  expect(await get(`${s.frontendUrl}/healthz`)).toEqual({ status: 200, text: '{"status":"ok"}' });
  expect(await get(`${s.frontendUrl}/readyz`)).toEqual({ status: 200, text: '{"status":"ready"}' });
  const f = (await get(`${s.frontendUrl}/metrics`)).text;
  expect(sample(f, "magma_frontend_callbacks_ingested_total")).toBeGreaterThanOrEqual(4);
  expect(sample(f, "magma_frontend_test_cases_ingested_total")).toBeGreaterThan(10);
  expect(sample(f, "magma_frontend_callback_lag_seconds_count")).toBeGreaterThanOrEqual(4);
  await expect
    .poll(async () => sample((await get(`${s.frontendUrl}/metrics`)).text, "magma_frontend_callback_queue_depth", { state: "waiting" }), {
      timeout: 30_000,
    })
    .toBe(0);
  expect(sample((await get(`${s.frontendUrl}/metrics`)).text, "magma_frontend_callback_queue_oldest_age_seconds")).toBe(0);
  for (const lab of s.labs) expect(sample(f, "magma_frontend_reconcile_lag_seconds", { lab: lab.name }), lab.name).toBeLessThan(120);
});
