import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE_NAMES, type TNotifyPayload } from "@magma/protocol";
import { createTestDatabase, type TestDatabase } from "@magma/db/testing";

/**
 * Per-file test environment: a fresh migrated frontend database and a unique BullMQ prefix,
 * exported through the variables env.ts reads (set before any app module calls env()).
 */
export async function setupTestEnv(): Promise<{ database: TestDatabase; prefix: string; cleanup(): Promise<void> }> {
  const database = await createTestDatabase("frontend");
  const prefix = `test-${randomUUID()}`;
  process.env["MAGMA_FRONTEND_DATABASE_URL"] = database.url;
  process.env["MAGMA_QUEUE_PREFIX"] = prefix;
  process.env["MAGMA_LOG_LEVEL"] = "silent";
  process.env["MAGMA_LAB_TIMEOUT_MS"] = "2000";
  return {
    database,
    prefix,
    async cleanup() {
      const connection = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
      for (const name of Object.values(QUEUE_NAMES)) {
        const q = new Queue(name, { connection, prefix });
        await q.obliterate({ force: true });
        await q.close();
      }
      connection.disconnect();
      const { closeProducers } = await import("../src/server/queues/connections.ts");
      const { closeDb } = await import("../src/server/db.ts");
      await closeProducers();
      await closeDb();
      await database.drop();
    },
  };
}

/** A LAVA notify payload (dataset: all) with `cases` test cases in suite `0_smoke` plus one `lava` case. */
export function notifyPayload(over: Partial<TNotifyPayload> & { id: number }, cases = 3): TNotifyPayload {
  const yamlCases = Array.from({ length: cases }, (_, i) =>
    [
      `- id: '${over.id * 100 + i}'`,
      `  job: '${over.id}'`,
      `  name: case-${i}`,
      `  suite: 0_smoke`,
      `  result: ${i === 1 ? "fail" : "pass"}`,
      `  measurement: ${i === 2 ? "'3.5'" : "None"}`,
      `  unit: ${i === 2 ? "seconds" : "''"}`,
      `  metadata: {case: case-${i}, definition: 0_smoke, result: pass}`,
    ].join("\n"),
  ).join("\n");
  return {
    status: 2,
    status_string: "complete",
    state: 5,
    state_string: "Finished",
    health: 1,
    health_string: "Complete",
    submit_time: "2026-11-23 06:56:30.291986+00:00",
    start_time: "2026-11-23 06:56:31.000000+00:00",
    end_time: "2026-11-23 06:57:10.394801+00:00",
    submitter_username: "admin",
    failure_comment: null,
    priority: 50,
    description: "smoke test",
    actual_device_id: "qemu-01",
    definition: "job_name: smoke test\ndevice_type: qemu\n",
    metadata: { "kernel.tree": "mainline", "kernel.branch": "master" },
    results: {
      lava: `- id: '${over.id * 100 + 99}'\n  job: '${over.id}'\n  name: job\n  suite: lava\n  result: pass\n  measurement: None\n  unit: ''\n`,
      "0_smoke": yamlCases,
    },
    magma: { instance: "lab-a", device_type: "qemu", error_type: null, health_check: false },
    ...over,
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tiny fake instance REST API on 127.0.0.1:<random port>; `handler` answers each request. */
export async function fakeLab(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * Calls a tRPC procedure through the real route handler (`app/api/trpc/[trpc]/route.ts`), as the
 * browser's httpBatchLink (without batching) or a script would.
 * @returns the HTTP status and `result.data` (or the error's message and code)
 */
export async function callTrpc(
  procedure: string,
  opts: { input?: unknown; mutation?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; data: unknown; error: { message: string; code: string } | null }> {
  const { GET, POST } = await import("../src/app/api/trpc/[trpc]/route.ts");
  const base = `http://127.0.0.1:3000/api/trpc/${procedure}`;
  const req = opts.mutation
    ? new Request(base, {
        method: "POST",
        headers: { "content-type": "application/json", ...opts.headers },
        body: JSON.stringify(opts.input ?? null),
      })
    : new Request(opts.input === undefined ? base : `${base}?input=${encodeURIComponent(JSON.stringify(opts.input))}`, {
        headers: opts.headers,
      });
  const res = await (opts.mutation ? POST : GET)(req);
  const body = (await res.json()) as { result?: { data: unknown }; error?: { message: string; data?: { code: string } } };
  return {
    status: res.status,
    data: body.result?.data ?? null,
    error: body.error ? { message: body.error.message, code: body.error.data?.code ?? "" } : null,
  };
}

/** The `magma_session=…` pair of a response's Set-Cookie, for a Cookie header, or null. */
export function sessionCookieOf(res: Response): string | null {
  const m = /magma_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "");
  return m && m[1] ? `magma_session=${m[1]}` : null;
}
