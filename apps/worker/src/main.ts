/**
 * Composition root of the Magma worker (LAVA's lava-worker): env → pino logger → daemon →
 * SIGINT/SIGTERM handlers (cancel running jobs, power off DUTs, flush logs, exit).
 * Start: `MAGMA_WORKER_NAME=… MAGMA_WORKER_TOKEN=… node --optimize-for-size --no-opt --no-sparkplug
 * --single-threaded apps/worker/dist/main.js`, the bundle of `npm run build -w @magma/worker`
 * (development: `npm start -w @magma/worker`, the same flags with `--import tsx src/main.ts`); the flags
 * (infra/demo/app-entry.ts WORKER_NODE_FLAGS) trade CPU the worker does not need for idle RSS.
 */
import { mkdir } from "node:fs/promises";
import pino from "pino";
import { loadEnv, WorkerEnvError } from "./env.ts";
import { WorkerDaemon } from "./daemon/daemon.ts";
// imported statically (it loads prom-client itself, on start): a dynamic import of a module that
// reaches @magma/protocol would make the bundler keep and run every schema module of the package
import { startMetricsServer } from "./metrics-server.ts";

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (e) {
    if (e instanceof WorkerEnvError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = pino({ level: env.MAGMA_LOG_LEVEL, base: { worker: env.MAGMA_WORKER_NAME } });
  await mkdir(env.MAGMA_WORKER_DIR, { recursive: true });
  const daemon = new WorkerDaemon({
    name: env.MAGMA_WORKER_NAME,
    instanceUrl: env.MAGMA_INSTANCE_URL,
    workerToken: env.MAGMA_WORKER_TOKEN,
    workerDir: env.MAGMA_WORKER_DIR,
    pingWaitMs: env.MAGMA_PING_WAIT_MS,
    tftp: { ip: env.MAGMA_DISPATCHER_IP, port: env.MAGMA_TFTP_PORT },
    maxDownloadBytes: env.MAGMA_WORKER_MAX_DOWNLOAD_BYTES,
    imageCacheBytes: env.MAGMA_WORKER_IMAGE_CACHE_BYTES,
    maxLogLines: env.MAGMA_WORKER_MAX_LOG_LINES,
    maxTestCases: env.MAGMA_WORKER_MAX_TEST_CASES,
    logger,
  });
  const ops =
    env.MAGMA_WORKER_METRICS_PORT === undefined
      ? null
      : await startMetricsServer({
          worker: env.MAGMA_WORKER_NAME,
          status: daemon,
          host: env.MAGMA_WORKER_METRICS_HOST,
          port: env.MAGMA_WORKER_METRICS_PORT,
          readyWithinMs: env.MAGMA_PING_WAIT_MS + 30_000,
        });
  if (ops) logger.info({ url: ops.url }, "metrics, healthz and readyz served");
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ running: daemon.runningJobs }, `${signal}: stopping (canceling running jobs, powering off DUTs, flushing logs)`);
    daemon.stop().then(
      () => {
        logger.info("worker stopped");
        logger.flush();
        process.exit(0);
      },
      (e) => {
        logger.error({ err: e }, "shutdown failed");
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  await daemon.start();
}

main().catch((e) => {
  process.stderr.write(`magma-worker: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
