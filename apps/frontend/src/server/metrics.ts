import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { QUEUE_NAMES } from "@magma/protocol";
import { producerQueue } from "./queues/connections.ts";

/**
 * The frontend's Prometheus metrics (prom-client). One registry per server process, kept on
 * globalThis: Next bundles the instrumentation hook (where the queue consumers and the reconciler
 * run) apart from the route handlers (where `/metrics` is served), and both must see the same values.
 *
 * - `magma_frontend_callback_queue_depth{state}`: `magma-callbacks` jobs waiting, active, delayed, failed
 * - `magma_frontend_callback_queue_oldest_age_seconds`: age of the oldest waiting callback, s (0 when none)
 * - `magma_frontend_callback_lag_seconds` (histogram): callback received → ingested, s
 * - `magma_frontend_callbacks_ingested_total`, `magma_frontend_test_cases_ingested_total`: ingest rate
 *   (Prometheus `rate()` of these)
 * - `magma_frontend_reconcile_last_success_timestamp_seconds{lab}`, `magma_frontend_reconcile_lag_seconds{lab}`:
 *   last reconciliation pass that reached the lab, and how long ago, s
 * - `magma_frontend_reconcile_repaired_total{lab}`: jobs the reconciliation repaired
 * - `magma_frontend_submission_delivery_failures_total{outcome}`: deliveries to a lab that failed,
 *   `rejected` (final: the lab refused the job) or `retry` (network or 5xx, retried)
 * Plus prom-client's default process metrics (`magma_frontend_process_*`, `magma_frontend_nodejs_*`).
 */
export interface FrontendMetrics {
  registry: Registry;
  callbackLag: Histogram;
  callbacksIngested: Counter;
  testCasesIngested: Counter;
  reconcileRepaired: Counter<"lab">;
  submissionFailures: Counter<"outcome">;
  /** records a reconciliation pass of `lab` that reached it (time: ms since the epoch) */
  reconciled(lab: string, at: number): void;
}

const g = globalThis as unknown as { magmaFrontendMetrics?: FrontendMetrics };

function create(): FrontendMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: "magma_frontend_" });
  const lastReconcile = new Map<string, number>();
  new Gauge({
    name: "magma_frontend_callback_queue_depth",
    help: "magma-callbacks queue jobs per state",
    labelNames: ["state"],
    registers,
    async collect() {
      const c = await producerQueue(QUEUE_NAMES.callbacks).getJobCounts("waiting", "active", "delayed", "failed");
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "magma_frontend_callback_queue_oldest_age_seconds",
    help: "Age of the oldest waiting magma-callbacks job, seconds (0 when none)",
    registers,
    async collect() {
      const [oldest] = await producerQueue(QUEUE_NAMES.callbacks).getJobs(["waiting"], 0, 0, true);
      this.set(oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
    },
  });
  new Gauge({
    name: "magma_frontend_reconcile_lag_seconds",
    help: "Time since the last reconciliation pass that reached the lab, seconds",
    labelNames: ["lab"],
    registers,
    collect() {
      for (const [lab, at] of lastReconcile) this.set({ lab }, (Date.now() - at) / 1000);
    },
  });
  const lastGauge = new Gauge({
    name: "magma_frontend_reconcile_last_success_timestamp_seconds",
    help: "Last reconciliation pass that reached the lab, unix seconds",
    labelNames: ["lab"],
    registers,
  });
  return {
    registry,
    callbackLag: new Histogram({
      name: "magma_frontend_callback_lag_seconds",
      help: "Callback received by the frontend → its results in the database, seconds",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    callbacksIngested: new Counter({ name: "magma_frontend_callbacks_ingested_total", help: "Notify callbacks ingested", registers }),
    testCasesIngested: new Counter({
      name: "magma_frontend_test_cases_ingested_total",
      help: "Test cases inserted by callback ingest",
      registers,
    }),
    reconcileRepaired: new Counter({
      name: "magma_frontend_reconcile_repaired_total",
      help: "Jobs repaired by reconciliation",
      labelNames: ["lab"],
      registers,
    }),
    submissionFailures: new Counter({
      name: "magma_frontend_submission_delivery_failures_total",
      help: "Submission deliveries to a lab that failed (rejected: final; retry: retried)",
      labelNames: ["outcome"],
      registers,
    }),
    reconciled(lab, at) {
      lastReconcile.set(lab, at);
      lastGauge.set({ lab }, at / 1000);
    },
  };
}

/** The process's metrics (created on first use). */
export function metrics(): FrontendMetrics {
  return (g.magmaFrontendMetrics ??= create());
}
