import { createInstanceDb, type InstanceDb } from "@magma/db/instance";
import { createTestDatabase, type TestDatabase } from "@magma/db/testing";
import { WORKER_PROTOCOL_VERSION } from "@magma/protocol";
import { buildApp, type InstanceApp } from "../app.ts";
import { loadConfig, type InstanceConfig } from "../env.ts";
import { createLogger } from "../logger.ts";
import { parseLabFile } from "../seed/lab-file.ts";
import { seedLab } from "../seed/seed-lab.ts";

export const ADMIN_TOKEN = "admin-token-0123456789abcdef";
export const BOB_TOKEN = "bob-token-0123456789abcdefgh";
export const WORKER_TOKEN = "worker-a-token-0123456789abcdef";
/** MAGMA_SECRET_KEY of test instances (seals the API tokens a notify callback may name) */
export const TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijkl";

/** The default test lab: admin + bob, one worker, device type qemu, qemu-01 (no tags). */
export const DEFAULT_LAB = `
users:
  - username: admin
    superuser: true
    tokens: [{secret: ${ADMIN_TOKEN}, description: admin}]
  - username: bob
    tokens: [{secret: ${BOB_TOKEN}, description: cb-token}]
workers:
  - hostname: worker-a
    token: ${WORKER_TOKEN}
device_types:
  - name: qemu
    dictionary: {qemu: {binary: qemu-system-x86_64, memory_mb: 256, smp: 1}}
devices:
  - hostname: qemu-01
    device_type: qemu
    worker: worker-a
    dictionary: {qemu: {memory_mb: 512}}
`;

/** A running instance on a fresh database, for integration tests. */
export interface Harness {
  testDb: TestDatabase;
  db: InstanceDb;
  app: InstanceApp;
  config: InstanceConfig;
  baseUrl: string;
  /** starts another app on the same database (restart tests); closes the previous one first */
  restart(overrides?: Partial<InstanceConfig>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a database (`createTestDatabase("instance")`), seeds `lab`, builds the app and listens on
 * port 0. Call `close()` in afterAll.
 */
export async function startHarness(opts: { lab?: string; config?: Partial<InstanceConfig> } = {}): Promise<Harness> {
  const testDb = await createTestDatabase("instance");
  const db = createInstanceDb(testDb.url, 10);
  let config: InstanceConfig = { ...loadConfig({}), databaseUrl: testDb.url, secretKey: TEST_SECRET_KEY, ...opts.config };
  await seedLab(db, parseLabFile(opts.lab ?? DEFAULT_LAB), { secretKey: config.secretKey });
  const logger = createLogger(process.env["MAGMA_TEST_LOG_LEVEL"] ?? "silent");
  const h: Harness = {
    testDb,
    db,
    config,
    app: undefined as unknown as InstanceApp,
    baseUrl: "",
    async restart(overrides) {
      await h.app?.close();
      config = { ...config, ...overrides };
      h.config = config;
      h.app = await buildApp({ db, config, logger });
      await h.app.server.listen({ host: "127.0.0.1", port: 0 });
      const addr = h.app.server.server.address();
      h.baseUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
      h.app.ctx.config.publicUrl = h.baseUrl;
    },
    async close() {
      await h.app?.close();
      await db.$disconnect();
      await testDb.drop();
    },
  };
  await h.restart();
  return h;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (no fixed sleeps in tests). */
export async function waitUntil<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A minimal valid job definition for device type `qemu`. */
export function jobYaml(
  opts: { name?: string; priority?: number | string; tags?: string[]; extra?: string; deviceType?: string; visibility?: string } = {},
): string {
  return [
    `job_name: ${opts.name ?? "smoke"}`,
    `device_type: ${opts.deviceType ?? "qemu"}`,
    `visibility: ${opts.visibility ?? "public"}`,
    opts.priority !== undefined ? `priority: ${opts.priority}` : "",
    opts.tags ? `tags: [${opts.tags.join(", ")}]` : "",
    `timeouts: {job: {minutes: 5}}`,
    `actions:`,
    `- deploy: {to: tmpfs, images: {kernel: {url: "http://example.com/vmlinuz"}}}`,
    `- boot: {method: qemu, prompts: ["/ #"]}`,
    opts.extra ?? "",
  ]
    .filter(Boolean)
    .join("\n");
}

/** Small HTTP client for the REST API. */
export async function api(
  h: Harness,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers["authorization"] = `Token ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(h.baseUrl + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Submits a job as admin and returns its id. */
export async function submit(h: Harness, definition: string, token = ADMIN_TOKEN): Promise<number> {
  const r = await api(h, "POST", "/api/v0.2/jobs/", { token, body: { definition } });
  if (r.status !== 201) throw new Error(`submit failed: ${r.status} ${r.text}`);
  return r.json.job_ids[0];
}

/** Plays the worker: ping with the worker token. */
export async function ping(h: Harness, opts: { waitMs?: number; hostname?: string; token?: string; version?: string } = {}) {
  const q = new URLSearchParams({ version: opts.version ?? WORKER_PROTOCOL_VERSION, wait_ms: String(opts.waitMs ?? 0) });
  return api(h, "GET", `/scheduler/internal/v1/workers/${opts.hostname ?? "worker-a"}/?${q}`, {
    headers: { "lava-token": opts.token ?? WORKER_TOKEN },
  });
}

/** Plays the worker: a job call with the job token. */
export async function jobCall(h: Harness, method: "GET" | "POST", path: string, jobToken: string, body?: unknown) {
  return api(h, method, `/scheduler/internal/v1/jobs/${path}`, { headers: { "lava-token": jobToken }, body });
}
