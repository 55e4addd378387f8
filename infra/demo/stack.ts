/**
 * Starts a whole local Magma federation — N lab instances (own database each), one worker per lab
 * with QEMU devices of device type `qemu`, the frontend (own database, BullMQ on Redis), and an
 * HTTP server for the DUT images — for `npm run demo` and for the cross-app tests in tests/.
 * Everything runs as real processes over real HTTP; nothing is mocked.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import serveHandler from "serve-handler";
import { stringify } from "yaml";
import { Supervisor, type SupervisorEvent } from "./supervisor.ts";
import { INSTANCE_ENV, INSTANCE_NODE_FLAGS, WORKER_ENV, WORKER_NODE_FLAGS, appEntryArgs } from "./app-entry.ts";

const run = promisify(execFile);
/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** One lab (micro-instance) of the stack. */
export interface LabSpec {
  name: string;
  port: number;
  /** number of QEMU devices on the lab's worker (hostnames qemu-01 …) */
  devices: number;
  /** port of the worker's /metrics, /healthz, /readyz (MAGMA_WORKER_METRICS_PORT); none when unset */
  workerMetricsPort?: number;
  /**
   * an outbound-only lab: not in the frontend's config file (the frontend has no URL for it); it is
   * enrolled with `npm run labs -- enroll` and its instance connects out to the frontend
   * (MAGMA_FEDERATION_URL + MAGMA_ENROLLMENT_TOKEN)
   */
  outbound?: boolean;
}

/** Devices a lab adds to its QEMU ones (see {@link StackOptions.labExtras}). */
export interface LabExtras {
  /** device types to seed (lab-file shape: name, dictionary, health_check…) */
  device_types?: Record<string, unknown>[];
  /** devices to seed (lab-file shape); `worker` defaults to the lab's worker, health to Good */
  devices?: Record<string, unknown>[];
  /** stops what the hook started (ser2net, serial cables, boards), after every process is stopped */
  stop?: () => Promise<void>;
}

export interface StackOptions {
  /** prefix of database names and the log folder, e.g. "demo" → magma_demo_lab_a */
  id: string;
  labs: LabSpec[];
  frontendPort: number;
  /** PostgreSQL server URL with a database the role can connect to (databases are created beside it) */
  pgUrl: string;
  redisUrl: string;
  /** BullMQ prefix (tests use a unique one) */
  queuePrefix: string;
  /** API token of the `admin` user on every lab, and of the frontend's `admin` user */
  adminToken: string;
  /**
   * Password of the frontend users `admin` (superuser) and `alice` (group `team-a`, which may
   * submit to the first lab); generated when unset (see RunningStack.adminPassword)
   */
  adminPassword?: string;
  /** where logs, configs and worker directories go */
  stateDir: string;
  /** directory with vmlinuz + initramfs.cpio.gz (infra/dut/build-dut.sh) */
  dutDir: string;
  /** port of the DUT image server (0 = any) */
  artifactPort?: number;
  onEvent?: (e: SupervisorEvent) => void;
  /** drop and recreate the databases first (tests) */
  freshDatabases?: boolean;
  /**
   * Optional hook adding devices to a lab (the demo gives lab-b a simulated U-Boot board behind
   * ser2net): called once per lab before seeding, with the DUT image server's URL.
   */
  labExtras?: (lab: { name: string; workerName: string; artifactsUrl: string }) => Promise<LabExtras | undefined>;
  /**
   * The health check of every lab's `qemu` device type (a job definition, given the DUT image
   * server's URL), as LAVA labs give each device type one; the demo sets it. Unset = no health
   * check (tests that count jobs or need the devices free at once).
   */
  qemuHealthCheck?: (artifactsUrl: string) => string;
  /** extra environment of the frontend / every instance / every worker (tests: e.g. MAGMA_RECONCILE_INTERVAL_MS) */
  frontendEnv?: Record<string, string>;
  instanceEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

export interface RunningStack {
  frontendUrl: string;
  labs: {
    name: string;
    url: string;
    workerName: string;
    federationToken: string;
    workerMetricsUrl: string | null;
    federationSigningSecret: string;
  }[];
  /** base URL serving vmlinuz and initramfs.cpio.gz */
  artifactsUrl: string;
  adminToken: string;
  /** password of the frontend's `admin` and `alice` */
  adminPassword: string;
  databases: Record<string, string>;
  supervisor: Supervisor;
  stop(): Promise<void>;
}

const tsx = (script: string) => ["--import", "tsx", path.join(ROOT, script)];
const dbName = (id: string, what: string) => `magma_${id}_${what}`.replace(/[^a-z0-9_]/gi, "_").toLowerCase();
function dbUrl(server: string, name: string): string {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Applies migrations (creating the database if missing). @throws Error with the runner's output. */
async function migrate(schema: "instance" | "frontend", url: string): Promise<void> {
  try {
    await run(process.execPath, [path.join(ROOT, "packages/db/scripts/migrate.mjs"), "deploy", "--schema", schema, "--create-db"], {
      env: { ...process.env, DATABASE_URL: url },
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`migrating ${schema} database ${url} failed: ${err.stderr || err.message}`);
  }
}

async function dropDatabase(server: string, name: string): Promise<void> {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Polls `url` until it answers (any HTTP status < 500) or `timeoutMs` passes. @throws Error naming the URL. */
export async function waitForHttp(url: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status < 500) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms (last error: ${last})`);
}

function serveArtifacts(dir: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => void serveHandler(req, res, { public: dir, directoryListing: false, etag: true }));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const token = () => randomBytes(24).toString("base64url");

/**
 * Builds the frontend (next build) through turbo, which replays its cache when no input changed,
 * so a stale `.next` is never served and an unchanged tree costs well under a second.
 * @throws Error with turbo's output when the build fails
 */
export async function ensureFrontendBuild(): Promise<void> {
  try {
    await run("npx", ["turbo", "run", "build", "--filter=@magma/frontend", "--output-logs=errors-only"], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1" },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building the frontend failed: ${err.stdout ?? ""}${err.stderr ?? err.message}`);
  }
}

/**
 * Starts the stack and waits until every HTTP endpoint answers.
 * @throws Error naming the part that failed (migration, seed, a process not answering)
 */
export async function startStack(o: StackOptions): Promise<RunningStack> {
  mkdirSync(o.stateDir, { recursive: true });
  const logDir = path.join(o.stateDir, "logs");
  const supervisor = new Supervisor(logDir, o.onEvent);
  const artifacts = await serveArtifacts(o.dutDir, o.artifactPort ?? 0);
  const artifactsUrl = `http://127.0.0.1:${(artifacts.address() as AddressInfo).port}`;
  const frontendUrl = `http://127.0.0.1:${o.frontendPort}`;
  const databases: Record<string, string> = {};

  const labs = o.labs.map((l) => ({
    ...l,
    url: `http://127.0.0.1:${l.port}`,
    workerName: `${l.name}-worker`,
    workerToken: token(),
    federationToken: token(),
    /** HMAC key of the lab's signed federation callbacks (X-Magma-Signature); the frontend verifies with it */
    federationSigningSecret: token(),
    db: dbUrl(o.pgUrl, dbName(o.id, l.name)),
  }));
  const frontendDb = dbUrl(o.pgUrl, dbName(o.id, "frontend"));

  // 1. databases
  if (o.freshDatabases) {
    for (const l of labs) await dropDatabase(o.pgUrl, dbName(o.id, l.name));
    await dropDatabase(o.pgUrl, dbName(o.id, "frontend"));
  }
  await Promise.all([...labs.map((l) => migrate("instance", l.db)), migrate("frontend", frontendDb)]);
  for (const l of labs) databases[l.name] = l.db;
  databases["frontend"] = frontendDb;

  // 2. seed each lab: admin user + token, the worker, device type qemu, devices
  const extraStops: (() => Promise<void>)[] = [];
  for (const l of labs) {
    const extra = await o.labExtras?.({ name: l.name, workerName: l.workerName, artifactsUrl });
    if (extra?.stop) extraStops.push(extra.stop);
    // the admin token is also the frontend's lab token: `federation` lets it submit as the real user (X-Magma-Submitter)
    const seed = {
      users: [{ username: "admin", superuser: true, tokens: [{ secret: o.adminToken, description: "demo", federation: true }] }],
      workers: [{ hostname: l.workerName, token: l.workerToken, description: `${l.name} worker (local QEMU)` }],
      device_types: [
        {
          name: "qemu",
          dictionary: { qemu: { binary: "qemu-system-x86_64", machine: "pc,accel=tcg", memory_mb: 256, smp: 1 } },
          ...(o.qemuHealthCheck ? { health_check: o.qemuHealthCheck(artifactsUrl) } : {}),
        },
        ...(extra?.device_types ?? []),
      ],
      devices: [
        ...Array.from({ length: l.devices }, (_, i) => ({
          hostname: `qemu-${String(i + 1).padStart(2, "0")}`,
          device_type: "qemu",
          worker: l.workerName,
          tags: [],
          health: "Good",
          dictionary: {},
        })),
        ...(extra?.devices ?? []).map((d) => ({ worker: l.workerName, tags: [], health: "Good", ...d })),
      ],
    };
    const file = path.join(o.stateDir, `${l.name}.seed.yaml`);
    writeFileSync(file, stringify(seed));
    try {
      await run(process.execPath, [...appEntryArgs("instance", "cli"), "seed", file], {
        cwd: ROOT,
        env: { ...process.env, MAGMA_INSTANCE_NAME: l.name, MAGMA_INSTANCE_DATABASE_URL: l.db },
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`seeding ${l.name} from ${file} failed: ${err.stderr || err.message}`);
    }
  }

  // 3. frontend configuration: the labs it federates
  const frontendConfig = path.join(o.stateDir, "frontend.yaml");
  writeFileSync(
    frontendConfig,
    stringify({
      instances: labs
        .filter((l) => !l.outbound)
        .map((l) => ({
          name: l.name,
          url: l.url,
          api_token: o.adminToken,
          callback_token: l.federationToken,
          callback_secret: l.federationSigningSecret,
        })),
    }),
  );

  // 3b. frontend accounts: admin (superuser, the same API token as on the labs) and alice in
  // team-a, which may submit to the first lab; the users CLI syncs the labs from the config first
  const adminPassword = o.adminPassword || randomBytes(12).toString("base64url");
  // the key sealing the labs' secrets in the frontend's database: kept in the state directory, since
  // an enrolled outbound lab's signing secret is sealed with it and is not re-synced from a file
  const keyFile = path.join(o.stateDir, "frontend-secret.key");
  if (o.freshDatabases || !existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
  const frontendSecretKey = readFileSync(keyFile, "utf8").trim();
  const accountsFile = path.join(o.stateDir, "frontend-accounts.yaml");
  writeFileSync(
    accountsFile,
    stringify({
      groups: [{ name: "team-a", labs: labs.slice(0, 1).map((l) => l.name) }],
      users: [
        { username: "admin", password: adminPassword, superuser: true, tokens: [{ value: o.adminToken, description: "demo" }] },
        { username: "alice", password: adminPassword, superuser: false, groups: ["team-a"] },
      ],
    }),
  );
  try {
    await run(process.execPath, [...tsx("apps/frontend/src/cli/users.ts"), "seed", accountsFile], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAGMA_FRONTEND_DATABASE_URL: frontendDb,
        MAGMA_FRONTEND_CONFIG: frontendConfig,
        MAGMA_FRONTEND_SECRET_KEY: frontendSecretKey,
        MAGMA_LOG_LEVEL: "warn",
      },
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`seeding the frontend accounts from ${accountsFile} failed: ${err.stderr || err.message}`);
  }

  // 3c. outbound-only labs: a one-time enrollment token each (a lab enrolled on an earlier run keeps
  // its stored credential and ignores the new token)
  const enrollment = new Map<string, string>();
  for (const l of labs.filter((x) => x.outbound)) {
    const { stdout } = await run(process.execPath, [...tsx("apps/frontend/src/cli/labs.ts"), "enroll", l.name], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAGMA_FRONTEND_DATABASE_URL: frontendDb,
        MAGMA_FRONTEND_SECRET_KEY: frontendSecretKey,
        MAGMA_LOG_LEVEL: "warn",
      },
    });
    const t = /^magma-enroll-\S+$/m.exec(stdout)?.[0];
    if (!t) throw new Error(`labs enroll ${l.name} printed no token: ${stdout}`);
    enrollment.set(l.name, t);
  }

  // 4. processes
  for (const l of labs) {
    supervisor.start({
      name: `${l.name}-instance`,
      command: process.execPath,
      // the esbuild bundle when built and fresh (about 70 MB less than tsx), else the sources
      args: [...INSTANCE_NODE_FLAGS, ...appEntryArgs("instance", "main")],
      cwd: ROOT,
      env: {
        ...INSTANCE_ENV,
        MAGMA_INSTANCE_NAME: l.name,
        MAGMA_INSTANCE_PORT: String(l.port),
        MAGMA_INSTANCE_HOST: "127.0.0.1",
        MAGMA_INSTANCE_DATABASE_URL: l.db,
        ...(l.outbound
          ? { MAGMA_FEDERATION_URL: frontendUrl, MAGMA_ENROLLMENT_TOKEN: enrollment.get(l.name)! }
          : {
              MAGMA_FEDERATION_CALLBACK_URL: `${frontendUrl}/api/callbacks/${l.name}`,
              MAGMA_FEDERATION_TOKEN: l.federationToken,
              MAGMA_FEDERATION_SIGNING_SECRET: l.federationSigningSecret,
            }),
        ...o.instanceEnv,
      },
    });
  }
  await ensureFrontendBuild();
  supervisor.start({
    name: "frontend",
    command: process.execPath,
    args: [path.join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(o.frontendPort), "-H", "127.0.0.1"],
    cwd: path.join(ROOT, "apps/frontend"),
    env: {
      MAGMA_FRONTEND_DATABASE_URL: frontendDb,
      REDIS_URL: o.redisUrl,
      MAGMA_QUEUE_PREFIX: o.queuePrefix,
      MAGMA_FRONTEND_CONFIG: frontendConfig,
      // the submit page's example job downloads this stack's DUT images, so it runs as it is
      MAGMA_EXAMPLE_IMAGES_URL: artifactsUrl,
      MAGMA_FRONTEND_SECRET_KEY: frontendSecretKey,
      NEXT_TELEMETRY_DISABLED: "1",
      ...o.frontendEnv,
    },
  });
  for (const l of labs) {
    supervisor.start({
      name: `${l.name}-worker`,
      command: process.execPath,
      // as shipped (systemd unit, WORKER_NODE_FLAGS): V8 favours memory over speed; the worker's
      // bundle when built and fresh, else the sources through tsx
      args: [...WORKER_NODE_FLAGS, ...appEntryArgs("worker", "main")],
      cwd: ROOT,
      env: {
        ...WORKER_ENV,
        MAGMA_WORKER_NAME: l.workerName,
        MAGMA_INSTANCE_URL: l.url,
        MAGMA_WORKER_TOKEN: l.workerToken,
        MAGMA_WORKER_DIR: path.join(o.stateDir, "workers", l.workerName),
        ...(l.workerMetricsPort !== undefined ? { MAGMA_WORKER_METRICS_PORT: String(l.workerMetricsPort) } : {}),
        ...o.workerEnv,
      },
    });
  }

  const stop = async () => {
    await supervisor.stopAll();
    for (const s of extraStops) await s().catch((e: Error) => console.error(`stopping lab extras failed: ${e.message}`));
    await new Promise<void>((r) => artifacts.close(() => r()));
  };
  try {
    await Promise.all([
      ...labs.map((l) => waitForHttp(`${l.url}/api/v0.2/system/version/`, 60_000, `instance ${l.name}`)),
      waitForHttp(`${frontendUrl}/`, 90_000, "frontend"),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    frontendUrl,
    labs: labs.map((l) => ({
      name: l.name,
      url: l.url,
      workerName: l.workerName,
      federationToken: l.federationToken,
      federationSigningSecret: l.federationSigningSecret,
      workerMetricsUrl: l.workerMetricsPort ? `http://127.0.0.1:${l.workerMetricsPort}` : null,
    })),
    artifactsUrl,
    adminToken: o.adminToken,
    adminPassword,
    databases,
    supervisor,
    stop,
  };
}
