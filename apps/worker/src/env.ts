import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { MAX_PING_WAIT_MS } from "@magma/protocol";
import { DEFAULT_IMAGE_CACHE_BYTES } from "./dispatcher/image-cache.ts";

/**
 * The worker's configuration: the ONLY place reading `process.env`.
 *   MAGMA_WORKER_NAME     required; the worker's hostname as registered on the instance
 *   MAGMA_INSTANCE_URL    default http://127.0.0.1:4001
 *   MAGMA_WORKER_TOKEN    required; the worker token (LAVA-Token header of pings)
 *   MAGMA_WORKER_DIR      default <os.tmpdir()>/magma-worker-<name>; job dirs and the journal
 *   MAGMA_LOG_LEVEL       pino level, default info
 *   MAGMA_PING_WAIT_MS    long-poll wait asked of the instance, default 20000 (≤ 25000)
 *   MAGMA_DISPATCHER_IP   address boards reach this worker on: the TFTP server binds it and boot
 *                         commands get it as {SERVER_IP}; default 127.0.0.1
 *   MAGMA_WORKER_MAX_DOWNLOAD_BYTES  largest image a job may download, in bytes, as downloaded
 *                         and once decompressed; default 8589934592 (8 GiB)
 *   MAGMA_WORKER_IMAGE_CACHE_BYTES  byte budget of the image cache in <MAGMA_WORKER_DIR>/image-cache
 *                         (images with an ETag or Last-Modified, revalidated by a conditional GET
 *                         on every use; least recently used go first); 0 disables; default
 *                         4294967296 (4 GiB)
 *   MAGMA_WORKER_MAX_LOG_LINES   most job log records per job; past it DUT output is no longer
 *                         logged and the job ends Incomplete (Job error); default 2000000
 *   MAGMA_WORKER_MAX_TEST_CASES  most test cases per job; past it the test action fails (Test
 *                         error); default 100000
 *   MAGMA_TFTP_PORT       UDP port of each job's TFTP server, default 0 (a free port per job,
 *                         {TFTP_PORT}); 69 for boards whose U-Boot cannot set `tftpdstp`
 */
const ZWorkerEnv = z.object({
  MAGMA_WORKER_NAME: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a hostname-like name (letters, digits, '.', '_', '-')"),
  MAGMA_INSTANCE_URL: z
    .url({ protocol: /^https?$/ })
    .default("http://127.0.0.1:4001")
    .transform((u) => u.replace(/\/+$/, "")),
  MAGMA_WORKER_TOKEN: z.string().min(1, "must not be empty"),
  MAGMA_WORKER_DIR: z.string().min(1).optional(),
  MAGMA_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAGMA_PING_WAIT_MS: z.coerce.number().int().min(0).max(MAX_PING_WAIT_MS).default(20_000),
  MAGMA_DISPATCHER_IP: z.ipv4().default("127.0.0.1"),
  MAGMA_TFTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Port of the worker's /metrics, /healthz and /readyz server (unset: no server; 0: any free port). */
  MAGMA_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  MAGMA_WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  MAGMA_WORKER_MAX_DOWNLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 ** 3),
  MAGMA_WORKER_IMAGE_CACHE_BYTES: z.coerce.number().int().min(0).default(DEFAULT_IMAGE_CACHE_BYTES),
  MAGMA_WORKER_MAX_LOG_LINES: z.coerce.number().int().positive().default(2_000_000),
  MAGMA_WORKER_MAX_TEST_CASES: z.coerce.number().int().positive().default(100_000),
});

/** Parsed worker configuration, MAGMA_WORKER_DIR resolved. */
export type TWorkerEnv = Omit<z.infer<typeof ZWorkerEnv>, "MAGMA_WORKER_DIR"> & { MAGMA_WORKER_DIR: string };

/** Error for a bad configuration: names every bad variable and why. */
export class WorkerEnvError extends Error {}

/**
 * Parses the worker configuration from `source` (default `process.env`).
 * @throws WorkerEnvError naming each bad variable, e.g. `MAGMA_WORKER_TOKEN: required`.
 */
export function loadEnv(source: Record<string, string | undefined> = process.env): TWorkerEnv {
  const parsed = ZWorkerEnv.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? "env");
      const missing = source[name] === undefined;
      return `${name}: ${missing ? "required environment variable is unset" : i.message}${missing ? "" : ` (got ${JSON.stringify(source[name])})`}`;
    });
    throw new WorkerEnvError(`Invalid worker configuration:\n  ${lines.join("\n  ")}`);
  }
  const env = parsed.data;
  return {
    ...env,
    MAGMA_WORKER_DIR: path.resolve(env.MAGMA_WORKER_DIR ?? path.join(os.tmpdir(), `magma-worker-${env.MAGMA_WORKER_NAME}`)),
  };
}

/**
 * The directories of PATH, in order: where `execFile` looks for a bare command name (the OS's
 * search path, not Magma configuration, read here as every environment variable is).
 */
export function executableSearchPath(): string[] {
  return (process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean);
}
