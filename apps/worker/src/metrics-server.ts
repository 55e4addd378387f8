import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { QemuProcess } from "./dispatcher/actions/boot/qemu-process.ts";

/** What the metrics read from the running daemon (WorkerDaemon has these). */
export interface WorkerStatus {
  readonly runningJobs: number[];
  readonly logBacklog: number;
  readonly lastPingOk: number;
}

/**
 * The worker's operations server (node:http, prom-client), one route each:
 *   GET /healthz → 200 `{status: "ok"}` while the process runs (liveness)
 *   GET /readyz  → 200 `{status: "ready"}` when the instance answered a ping within `readyWithinMs`,
 *                  else 503 `{status: "unready", reason}` naming how long ago (or "never")
 *   GET /metrics → Prometheus text: `magma_worker_running_jobs`, `magma_worker_log_backlog_lines`
 *                  (records queued for upload, not yet acknowledged), `magma_worker_qemu_processes`,
 *                  `magma_worker_last_ping_ok_timestamp_seconds`, and prom-client's process metrics
 * Anything else answers 404. Labels: `worker` = the worker's name.
 * @returns the listening server and its URL; `close()` stops it
 */
export async function startMetricsServer(opts: {
  worker: string;
  status: WorkerStatus;
  host: string;
  port: number;
  readyWithinMs: number;
}): Promise<{ url: string; close(): Promise<void> }> {
  // prom-client is loaded only when the metrics endpoint is asked for
  const { Gauge, Registry, collectDefaultMetrics } = await import("prom-client");
  const registry = new Registry();
  registry.setDefaultLabels({ worker: opts.worker });
  collectDefaultMetrics({ register: registry, prefix: "magma_worker_" });
  const registers = [registry];
  const { status } = opts;
  new Gauge({
    name: "magma_worker_running_jobs",
    help: "Test jobs running in this worker process",
    registers,
    collect() {
      this.set(status.runningJobs.length);
    },
  });
  new Gauge({
    name: "magma_worker_log_backlog_lines",
    help: "Log records queued for upload and not yet acknowledged by the instance",
    registers,
    collect() {
      this.set(status.logBacklog);
    },
  });
  new Gauge({
    name: "magma_worker_qemu_processes",
    help: "QEMU processes started by this worker and still running",
    registers,
    collect() {
      this.set(QemuProcess.live);
    },
  });
  new Gauge({
    name: "magma_worker_last_ping_ok_timestamp_seconds",
    help: "When the instance last answered a ping, unix seconds (0: never)",
    registers,
    collect() {
      this.set(status.lastPingOk / 1000);
    },
  });

  const server: Server = createServer((req, res) => {
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return json(405, { status: "error", reason: "only GET" });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      const last = status.lastPingOk;
      if (last && Date.now() - last <= opts.readyWithinMs) return json(200, { status: "ready" });
      return json(503, {
        status: "unready",
        reason: last
          ? `instance last answered a ping ${Math.round((Date.now() - last) / 1000)} s ago`
          : "the instance has not answered a ping yet",
      });
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        (e: Error) => json(500, { status: "error", reason: e.message }),
      );
      return;
    }
    json(404, { status: "error", reason: `no route ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
