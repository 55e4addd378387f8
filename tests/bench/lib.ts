/**
 * Shared plumbing of the benchmark suite: free ports, per-run databases (created with the offline
 * migration runner, filled with COPY, dropped at the end), real instance processes (the same command
 * as infra/demo/stack.ts), RSS reads from /proc, timers and an HTTP client pool. Everything a bench
 * creates is registered here and torn down by {@link cleanupAll}, also when a bench throws or the run
 * is interrupted.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { Pool } from "undici";
import { ROOT, waitForHttp } from "../../infra/demo/stack.ts";
import { INSTANCE_ENV, INSTANCE_NODE_FLAGS, appEntryArgs } from "../../infra/demo/app-entry.ts";
import { freePort } from "../tools/free-port.ts";
export { freePort };

export { ROOT };
const run = promisify(execFile);

/** PostgreSQL server URL the bench creates its databases beside. */
export const PG_URL = process.env["MAGMA_BENCH_PG_URL"] ?? process.env["MAGMA_PG_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
/** Unique id of this bench run: prefixes databases, queue prefixes and the state folder. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
export const STATE_DIR = path.join(os.tmpdir(), `magma-bench-${RUN_ID}`);
mkdirSync(STATE_DIR, { recursive: true });

/** High-resolution wall clock, ms (comparable across processes on this machine). */
export const nowMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// cleanup registry

const cleanups: { what: string; fn: () => Promise<void> }[] = [];
/** Registers a teardown step; steps run in reverse order. @returns a function that runs it now (once). */
export function onCleanup(what: string, fn: () => Promise<void>): () => Promise<void> {
  const entry = { what, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await fn();
  };
}

/** Runs every registered teardown (processes first, then databases), logging failures. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await c.fn();
    } catch (e) {
      console.error(`[bench] cleanup of ${c.what} failed: ${(e as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// databases

function dbUrl(name: string): string {
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * Creates and migrates a fresh database of `schema`, dropped at cleanup.
 * @returns its URL
 */
export async function createDatabase(schema: "instance" | "frontend", label: string): Promise<string> {
  const name = `magma_bench_${RUN_ID}_${label}`.replace(/[^a-z0-9_]/gi, "_").toLowerCase();
  const url = dbUrl(name);
  onCleanup(`database ${name}`, () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  try {
    await run(process.execPath, [path.join(ROOT, "packages/db/scripts/migrate.mjs"), "deploy", "--schema", schema, "--create-db"], {
      env: { ...process.env, DATABASE_URL: url },
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`migrating ${schema} database ${name} failed: ${err.stderr || err.message}`);
  }
  return url;
}

/** A pg client on `url`, closed at cleanup. */
export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  onCleanup("pg client", () => c.end().catch(() => {}));
  return c;
}

/** COPY text-format escaping of one field (null → \N). */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const s =
    typeof v === "string"
      ? v
      : Array.isArray(v)
        ? `{${v.map((x) => JSON.stringify(String(x))).join(",")}}`
        : typeof v === "object"
          ? JSON.stringify(v)
          : String(v);
  return s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/**
 * Bulk-loads rows with PostgreSQL's COPY FROM STDIN (text format), streamed in 64 KiB chunks.
 * @param rows generator of rows (arrays in `columns` order)
 * @returns rows copied
 */
export async function copyRows(c: pg.Client, table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number> {
  let n = 0;
  function* chunks() {
    let buf = "";
    for (const r of rows) {
      buf += r.map(copyField).join("\t") + "\n";
      n++;
      if (buf.length > 65536) {
        yield buf;
        buf = "";
      }
    }
    if (buf) yield buf;
  }
  const stream = c.query(copyFrom(`COPY ${table} (${columns.map((x) => `"${x}"`).join(", ")}) FROM STDIN`));
  await pipeline(Readable.from(chunks()), stream);
  return n;
}

// ---------------------------------------------------------------------------------------------
// lab contents

export const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString("hex")}`;
export const WORKER_TOKEN = `bench-worker-${randomBytes(12).toString("hex")}`;

/** Small valid job definition (LAVA YAML) for `deviceType`. */
export function jobYaml(deviceType: string, name = "bench"): string {
  return [
    `job_name: ${name}`,
    `device_type: ${deviceType}`,
    `visibility: public`,
    `priority: medium`,
    `timeouts: {job: {minutes: 5}, action: {minutes: 2}}`,
    `metadata: {kernel.tree: mainline, kernel.version: v6.12}`,
    `actions:`,
    `- deploy: {to: tmpfs, timeout: {minutes: 2}, images: {kernel: {url: "http://127.0.0.1/vmlinuz"}, ramdisk: {url: "http://127.0.0.1/initramfs.cpio.gz", compression: gz}}}`,
    `- boot: {method: qemu, media: tmpfs, prompts: ["/ #"], timeout: {minutes: 2}}`,
  ].join("\n");
}

export interface LabShape {
  /** worker hostnames w-000 … */
  workers: number;
  /** devices per device type, spread round-robin over the workers */
  devices: { type: string; count: number; health?: string }[];
  /** extra device types without devices (jobs to them stay Submitted, like LAVA's Maintenance trick) */
  emptyTypes?: string[];
}

/**
 * Fills an instance database: user `admin` (superuser) with {@link ADMIN_TOKEN}, workers with
 * {@link WORKER_TOKEN} (state Online so their devices are schedulable), device types and devices
 * (Idle, health Good), all with COPY.
 * @returns ids of the device types by name
 */
export async function seedLab(url: string, shape: LabShape): Promise<Record<string, number>> {
  const c = await connect(url);
  await c.query(`INSERT INTO users (username, is_superuser) VALUES ('admin', true)`);
  // tokens are stored as SHA-256 digests (hex), as the instance's seed stores them
  await c.query(
    `INSERT INTO api_tokens (user_id, secret_digest, description) VALUES (1, encode(sha256(convert_to($1, 'UTF8')), 'hex'), 'bench')`,
    [ADMIN_TOKEN],
  );
  const workerDigest = createHash("sha256").update(WORKER_TOKEN, "utf8").digest("hex");
  await copyRows(
    c,
    "workers",
    ["hostname", "token_digest", "state", "last_ping"],
    (function* () {
      for (let i = 0; i < shape.workers; i++) yield [workerName(i), workerDigest, "Online", new Date().toISOString()];
    })(),
  );
  const types = [...shape.devices.map((d) => d.type), ...(shape.emptyTypes ?? [])];
  const ids: Record<string, number> = {};
  for (const t of types) {
    const r = await c.query<{ id: number }>(
      `INSERT INTO device_types (name, dictionary) VALUES ($1, '{"qemu": {"binary": "qemu-system-x86_64", "memory_mb": 256}}') RETURNING id`,
      [t],
    );
    ids[t] = r.rows[0]!.id;
  }
  let k = 0;
  await copyRows(
    c,
    "devices",
    ["hostname", "device_type_id", "worker_id", "state", "health", "tags"],
    (function* () {
      for (const d of shape.devices) {
        for (let i = 0; i < d.count; i++, k++)
          yield [`${d.type}-${String(i).padStart(4, "0")}`, ids[d.type], (k % shape.workers) + 1, "Idle", d.health ?? "Good", []];
      }
    })(),
  );
  await c.query("ANALYZE");
  return ids;
}

export const workerName = (i: number) => `w-${String(i).padStart(3, "0")}`;

// ---------------------------------------------------------------------------------------------
// processes

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  logPath: string;
  stop(): Promise<void>;
}

/**
 * Spawns a process in its own process group with output to a log file in the run's state folder;
 * stopped (SIGTERM, then SIGKILL after 5 s) at cleanup or by `stop()`.
 */
export function spawnProc(name: string, args: string[], env: Record<string, string>, cwd = ROOT): Proc {
  const logPath = path.join(STATE_DIR, `${name}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let stopped = false;
  const kill = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 5000);
    await exited;
    clearTimeout(t);
  };
  const stop = onCleanup(`process ${name}`, kill);
  return { name, pid: child.pid!, child, logPath, stop };
}

export interface InstanceProc extends Proc {
  url: string;
}

/**
 * Starts a real instance process with the demo stack's command ({@link INSTANCE_NODE_FLAGS} and {@link INSTANCE_ENV}, the esbuild bundle
 * `apps/instance/dist/main.js` when built and fresh, else `node --import tsx apps/instance/src/main.ts`)
 * on a free port and waits until its REST API answers.
 */
export async function startInstance(name: string, databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<InstanceProc> {
  const port = await freePort();
  // e.g. MAGMA_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the instances;
  // MAGMA_BENCH_INSTANCE_NODE_FLAGS replaces the shipped INSTANCE_NODE_FLAGS (empty: none) to compare flags
  const nodeArgs = (process.env["MAGMA_BENCH_NODE_ARGS"] ?? "").split(" ").filter(Boolean);
  const shipped = process.env["MAGMA_BENCH_INSTANCE_NODE_FLAGS"]?.split(" ").filter(Boolean) ?? INSTANCE_NODE_FLAGS;
  // MAGMA_BENCH_INSTANCE_ENV="K=V …" replaces the shipped INSTANCE_ENV (empty: none)
  const shippedEnv =
    process.env["MAGMA_BENCH_INSTANCE_ENV"] === undefined
      ? INSTANCE_ENV
      : Object.fromEntries(
          process.env["MAGMA_BENCH_INSTANCE_ENV"]
            .split(" ")
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
        );
  const p = spawnProc(`${name}-instance`, [...shipped, ...nodeArgs, ...appEntryArgs("instance", "main")], {
    ...shippedEnv,
    MAGMA_INSTANCE_NAME: name,
    MAGMA_INSTANCE_HOST: "127.0.0.1",
    MAGMA_INSTANCE_PORT: String(port),
    MAGMA_INSTANCE_DATABASE_URL: databaseUrl,
    MAGMA_LOG_LEVEL: process.env["MAGMA_BENCH_LOG_LEVEL"] ?? "info",
    ...extraEnv,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/api/v0.2/system/version/`, 60_000, `instance ${name}`);
  } catch (e) {
    throw new Error(`${(e as Error).message}; log: ${p.logPath}\n${readFileSync(p.logPath, "utf8").slice(-2000)}`);
  }
  return { ...p, url };
}

/** Resident set size of a process now, bytes (VmRSS from /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** `pid` and all its descendants now (parent ids from /proc/<pid>/stat). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const kids = parents.get(ppid) ?? [];
      kids.push(Number(d));
      parents.set(ppid, kids);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(parents.get(p) ?? []));
  }
  return out;
}

/**
 * Resident set size of a process and all its descendants now, bytes (VmRSS summed over the tree
 * found through /proc/<pid>/stat parent ids): `next start` may run parts of the server in children.
 */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += rssBytes(p);
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (user + system) used so far by a process and its live descendants, in ms (/proc/<pid>/stat
 * utime + stime, in clock ticks of 10 ms): the cost of a piece of work whatever else the machine is
 * doing, unlike its wall time.
 */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone meanwhile */
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** A keep-alive undici pool to `origin` with `connections` sockets, closed at cleanup. */
export function httpPool(origin: string, connections = 1): Pool {
  const p = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  onCleanup(`http pool ${origin}`, () => p.close());
  return p;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/** One JSON request over `pool`. @throws Error on a status ≥ 400 with the body. */
export async function req<T = unknown>(
  pool: Pool,
  method: "GET" | "POST",
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  const r = await pool.request({ method, path, headers, body });
  const text = await r.body.text();
  if (r.statusCode >= 400) throw new Error(`${method} ${path}: HTTP ${r.statusCode}: ${text.slice(0, 500)}`);
  return {
    status: r.statusCode,
    body: (text && (r.headers["content-type"] ?? "").toString().includes("json") ? JSON.parse(text) : text) as T,
  };
}

export const auth = (token = ADMIN_TOKEN) => ({ authorization: `Token ${token}` });

/**
 * Warm-up before a latency or rate measure, ms: a lab's instance runs for weeks, so its request paths
 * are compiled by V8's optimising tiers; right after a start the same requests run interpreted (a
 * REST submission ~4 ms instead of ~1.8 on this kind of machine). Measures repeat their call for
 * this long first ({@link warmUp}), as a JMH-style warm-up phase, and report the steady state.
 */
export const WARM_UP_MS = 2_500;

/**
 * Calls `call` again and again, one at a time, for `ms` (at least `min` times); results are dropped.
 * @returns how many calls ran
 */
export async function warmUp(call: () => Promise<unknown>, ms = WARM_UP_MS, min = 20): Promise<number> {
  const end = nowMs() + ms;
  let n = 0;
  while (n < min || nowMs() < end) {
    await call();
    n++;
  }
  return n;
}

/** Polls `probe` every `intervalMs` until it returns a value or `timeoutMs` passes. */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | null | false>,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
