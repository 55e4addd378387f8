/**
 * One isolated federation for a fault-injection test file: two labs (instance + worker with one
 * QEMU device each), the frontend, a private Redis and (optionally) a private PostgreSQL cluster,
 * fresh databases, a unique BullMQ prefix and free ports — started through infra/demo/stack.ts as
 * the demo and the e2e start it. Also the small REST/DB helpers the tests share.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { submitToLab, waitFor } from "../../../infra/demo/clients.ts";
import { ROOT, startStack, waitForHttp, type RunningStack, type StackOptions } from "../../../infra/demo/stack.ts";
import { freePort, startPrivatePostgres, startPrivateRedis, tempDir, type ManagedServer } from "./services.ts";

export interface FaultStack {
  stack: RunningStack;
  redis: ManagedServer;
  /** the private PostgreSQL cluster, when started with `privatePostgres` */
  postgres: ManagedServer | null;
  stateDir: string;
  /** BullMQ prefix of this stack's queues (on the private Redis) */
  queuePrefix: string;
  /** one pg pool per database: lab names and "frontend" */
  db: Record<string, pg.Pool>;
  lab(name: string): RunningStack["labs"][number];
  /** QEMU processes started by a lab's worker */
  qemuPids(lab: string): number[];
  stop(): Promise<void>;
}

export interface FaultStackOptions {
  /** run every database on a private cluster (for the PostgreSQL restart fault) */
  privatePostgres?: boolean;
  /** reconciliation interval of the frontend, ms */
  reconcileMs?: number;
  /** QEMU devices per lab (default 1 each) */
  devices?: { "lab-a"?: number; "lab-b"?: number };
  /** extra devices / device types per lab (see infra/demo/stack.ts StackOptions.labExtras) */
  labExtras?: StackOptions["labExtras"];
}

const log = (m: string) => console.log(`[faults ${new Date().toISOString().slice(11, 19)}] ${m}`);
export { log };

export async function startFaultStack(o: FaultStackOptions = {}): Promise<FaultStack> {
  const run = randomUUID().slice(0, 8);
  const stateDir = tempDir(`magma-faults-${run}`);
  const redis = await startPrivateRedis(path.join(stateDir, "redis"));
  const postgres = o.privatePostgres ? await startPrivatePostgres(path.join(stateDir, "pg")) : null;
  const queuePrefix = `magma-faults-${run}`;
  const pgUrl = postgres?.url ?? process.env["MAGMA_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const stack = await startStack({
    id: `faults_${run}`,
    labs: [
      { name: "lab-a", port: await freePort(), devices: o.devices?.["lab-a"] ?? 1 },
      { name: "lab-b", port: await freePort(), devices: o.devices?.["lab-b"] ?? 1 },
    ],
    labExtras: o.labExtras,
    frontendPort: await freePort(),
    pgUrl,
    redisUrl: redis.url,
    queuePrefix,
    adminToken: randomBytes(18).toString("base64url"),
    stateDir,
    dutDir: path.join(ROOT, ".magma/dut"),
    freshDatabases: true,
    frontendEnv: { MAGMA_RECONCILE_INTERVAL_MS: String(o.reconcileMs ?? 5000) },
    onEvent: (e) => {
      if (e.event !== "started") log(`${e.name} ${e.event} (code ${e.code ?? "-"}, signal ${e.signal ?? "-"})`);
    },
  });
  log(
    `stack up: frontend ${stack.frontendUrl}, ${stack.labs.map((l) => `${l.name} ${l.url}`).join(", ")}, redis ${redis.url}, pg ${pgUrl}; logs in ${stateDir}/logs`,
  );
  const db: Record<string, pg.Pool> = {};
  for (const [name, url] of Object.entries(stack.databases)) {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    pool.on("error", () => {}); // a PostgreSQL restart breaks idle clients; the next query reconnects
    db[name] = pool;
  }
  return {
    stack,
    redis,
    postgres,
    stateDir,
    queuePrefix,
    db,
    lab: (name) => {
      const l = stack.labs.find((x) => x.name === name);
      if (!l) throw new Error(`no lab ${name}`);
      return l;
    },
    qemuPids: (lab) => {
      const needle = path.join(stateDir, "workers", `${lab}-worker`);
      const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
      return out
        .split("\n")
        .filter((l) => l.includes("qemu-system") && l.includes(needle))
        .map((l) => Number(l.trim().split(/\s+/)[0]));
    },
    async stop() {
      await stack.stop();
      for (const p of Object.values(db)) await p.end().catch(() => {});
      if (!postgres) {
        const admin = new pg.Client({ connectionString: pgUrl });
        await admin.connect();
        for (const url of Object.values(stack.databases))
          await admin.query(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
        await admin.end();
      }
      await postgres?.stop();
      await redis.stop();
      if (!process.env["MAGMA_FAULTS_KEEP"]) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** GET /api/v0.2/jobs/<id>/ of a lab. */
export async function labJob(
  f: FaultStack,
  lab: string,
  id: number,
): Promise<{
  id: number;
  state: string;
  health: string;
  error_type: string | null;
  failure_comment: string | null;
  actual_device: string | null;
}> {
  const l = f.lab(lab);
  const r = await fetch(`${l.url}/api/v0.2/jobs/${id}/`, {
    headers: { authorization: `Token ${f.stack.adminToken}` },
    signal: AbortSignal.timeout(5000),
  });
  if (!r.ok) throw new Error(`GET job ${lab}/${id}: HTTP ${r.status}`);
  return (await r.json()) as never;
}

/** Submits to a lab's REST API, retrying while the lab is down (a user's script would). */
export async function submit(f: FaultStack, lab: string, definition: string): Promise<number> {
  return waitFor(`submit to ${lab}`, 60_000, () => submitToLab(f.lab(lab).url, f.stack.adminToken, definition), 500);
}

/** Waits until the lab's job satisfies `pred` (the lab may be down meanwhile). */
export async function waitJob(
  f: FaultStack,
  lab: string,
  id: number,
  what: string,
  pred: (j: Awaited<ReturnType<typeof labJob>>) => boolean,
  timeoutMs = 240_000,
) {
  return waitFor(
    `${lab} job ${id} ${what}`,
    timeoutMs,
    async () => {
      const j = await labJob(f, lab, id);
      return pred(j) ? j : undefined;
    },
    500,
  );
}

/** Rows of a query on one of the stack's databases. */
export async function q<T = Record<string, unknown>>(f: FaultStack, dbName: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const pool = f.db[dbName];
  if (!pool) throw new Error(`no database ${dbName}`);
  return (await pool.query(sql, params)).rows as T[];
}

/** Number of log lines a lab stored for a job. */
export async function logLineCount(f: FaultStack, lab: string, id: number): Promise<number> {
  const [r] = await q<{ n: number }>(f, lab, "SELECT log_line_count AS n FROM test_jobs WHERE id = $1", [id]);
  return r?.n ?? 0;
}

/** Waits until a stack HTTP endpoint answers again after a restart. */
export async function waitUp(url: string, what: string, timeoutMs = 90_000): Promise<void> {
  await waitForHttp(url, timeoutMs, what);
}
