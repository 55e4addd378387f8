import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { JOB_STATES } from "@magma/protocol";
import { countJobsByState, outboxBacklog, workerLastPings, type InstanceDb } from "@magma/db/instance";

/**
 * The instance's Prometheus metrics (prom-client), one registry per built app (tests run several
 * instances in one process). Served at `GET /metrics` in Prometheus' text format.
 *
 * Updated as work happens:
 * - `magma_instance_scheduler_pass_seconds` (histogram): duration of each scheduling pass, s
 * - `magma_instance_log_lines_ingested_total` (counter): log lines stored from workers
 * Read from the database at scrape time (one query each):
 * - `magma_instance_jobs{state}`: test jobs per state (LAVA's Submitted … Finished)
 * - `magma_instance_queue_depth`: jobs waiting for a device (state Submitted)
 * - `magma_instance_outbox_backlog`, `magma_instance_outbox_oldest_age_seconds`: notify callbacks not
 *   yet delivered, and the age of the oldest, s (0 when none)
 * - `magma_instance_worker_last_ping_timestamp_seconds{worker}`: last ping of each worker, unix s
 * Plus prom-client's default process metrics (`magma_instance_process_*`, `magma_instance_nodejs_*`).
 */
export class InstanceMetrics {
  readonly registry = new Registry();
  readonly schedulerPass: Histogram;
  readonly logLinesIngested: Counter;

  constructor(db: InstanceDb, labels: { instance: string }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: "magma_instance_" });
    this.schedulerPass = new Histogram({
      name: "magma_instance_scheduler_pass_seconds",
      help: "Duration of one scheduling pass (health checks then jobs), seconds",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.logLinesIngested = new Counter({
      name: "magma_instance_log_lines_ingested_total",
      help: "Job log lines stored from worker uploads",
      registers,
    });
    new Gauge({
      name: "magma_instance_jobs",
      help: "Test jobs per state",
      labelNames: ["state"],
      registers,
      async collect() {
        const counts = await countJobsByState(db, [...JOB_STATES]);
        for (const s of JOB_STATES) this.set({ state: s }, counts[s] ?? 0);
      },
    });
    new Gauge({
      name: "magma_instance_queue_depth",
      help: "Test jobs waiting for a device (state Submitted)",
      registers,
      async collect() {
        this.set((await countJobsByState(db, ["Submitted"]))["Submitted"] ?? 0);
      },
    });
    let outbox: Promise<{ n: number; oldest: Date | null }> | null = null;
    const readOutbox = () =>
      (outbox ??= outboxBacklog(db)
        .then((r) => ({ n: r.count, oldest: r.oldest }))
        .finally(() => setImmediate(() => (outbox = null))));
    new Gauge({
      name: "magma_instance_outbox_backlog",
      help: "Notify callbacks (job and federation) not yet delivered",
      registers,
      async collect() {
        this.set((await readOutbox()).n);
      },
    });
    new Gauge({
      name: "magma_instance_outbox_oldest_age_seconds",
      help: "Age of the oldest undelivered notify callback, seconds (0 when none)",
      registers,
      async collect() {
        const { oldest } = await readOutbox();
        this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
      },
    });
    new Gauge({
      name: "magma_instance_worker_last_ping_timestamp_seconds",
      help: "Last ping of each worker, unix seconds",
      labelNames: ["worker"],
      registers,
      async collect() {
        this.reset();
        for (const w of await workerLastPings(db)) {
          if (w.lastPing) this.set({ worker: w.hostname }, w.lastPing.getTime() / 1000);
        }
      },
    });
  }
}
