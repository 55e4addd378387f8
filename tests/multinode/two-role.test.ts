/**
 * Issue 14 item 5, MultiNode on QEMU: a two-role job on two QEMU devices of one lab — the server
 * lava-sends a value, the client lava-waits for it and records it as a test case, both sync, both
 * sub-jobs Complete; a group whose peer never sends ends Incomplete with MultinodeTimeout.
 * Starts a real instance and worker (processes, over HTTP only) on a fresh database and free ports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createTestDatabase, type TestDatabase } from "@magma/db/testing";
import { freePort } from "../tools/free-port.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "multinode-admin-token-0123456789";
const WORKER_TOKEN = "multinode-worker-token-0123456789";

let db: TestDatabase;
let dir: string;
let instanceUrl: string;
let artifactsUrl: string;
let artifacts: Server;
const procs: ChildProcess[] = [];

function start(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const p = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, entry), ...(env["ARGS"] ? env["ARGS"].split(" ") : [])], {
    cwd: ROOT,
    env: { ...process.env, MAGMA_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  p.stdout!.on("data", (d: Buffer) => log.push(d.toString()));
  p.stderr!.on("data", (d: Buffer) => log.push(d.toString()));
  p.on("exit", (code) => {
    if (code) console.error(`${name} exited ${code}:\n${log.join("").slice(-4000)}`);
  });
  procs.push(p);
  return p;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function rest(method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${instanceUrl}/api/v0.2/${p}`, {
    method,
    headers: { authorization: `Token ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "magma-multinode-"));
  db = await createTestDatabase("instance");
  const seed = {
    users: [{ username: "admin", superuser: true, tokens: [{ secret: TOKEN, description: "multinode test" }] }],
    workers: [{ hostname: "mn-worker", token: WORKER_TOKEN }],
    device_types: [
      { name: "qemu", dictionary: { qemu: { binary: "qemu-system-x86_64", machine: "pc,accel=tcg", memory_mb: 256, smp: 1 } } },
    ],
    devices: ["qemu-01", "qemu-02"].map((hostname) => ({
      hostname,
      device_type: "qemu",
      worker: "mn-worker",
      health: "Good",
      dictionary: {},
    })),
  };
  writeFileSync(path.join(dir, "lab.yaml"), stringify(seed));
  const seeding = start("seed", "apps/instance/src/cli.ts", {
    MAGMA_INSTANCE_DATABASE_URL: db.url,
    ARGS: `seed ${path.join(dir, "lab.yaml")}`,
  });
  await new Promise<void>((resolve, reject) => seeding.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`seed exited ${c}`)))));

  artifacts = createServer((req, res) => {
    const name = (req.url ?? "").replace(/^\//, "");
    if (name !== "vmlinuz" && name !== "initramfs.cpio.gz") return void res.writeHead(404).end();
    createReadStream(path.join(ROOT, ".magma/dut", name)).pipe(res);
  });
  await new Promise<void>((r) => artifacts.listen(0, "127.0.0.1", () => r()));
  artifactsUrl = `http://127.0.0.1:${(artifacts.address() as { port: number }).port}`;

  const port = await freePort();
  instanceUrl = `http://127.0.0.1:${port}`;
  start("instance", "apps/instance/src/main.ts", {
    MAGMA_INSTANCE_NAME: "mn-lab",
    MAGMA_INSTANCE_PORT: String(port),
    MAGMA_INSTANCE_DATABASE_URL: db.url,
  });
  await waitFor("the instance", 60_000, async () => ((await fetch(`${instanceUrl}/api/v0.2/system/version/`)).ok ? true : undefined));
  start("worker", "apps/worker/src/main.ts", {
    MAGMA_WORKER_NAME: "mn-worker",
    MAGMA_INSTANCE_URL: instanceUrl,
    MAGMA_WORKER_TOKEN: WORKER_TOKEN,
    MAGMA_WORKER_DIR: path.join(dir, "worker"),
  });
});

afterAll(async () => {
  for (const p of procs.reverse()) {
    if (p.exitCode !== null) continue;
    p.kill("SIGTERM");
    await new Promise((r) => p.once("exit", r));
  }
  await new Promise((r) => artifacts?.close(r));
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A two-role job on QEMU; `serverSteps`/`clientSteps` are the roles' test steps. */
function twoRoleJob(name: string, timeoutSeconds: number, serverSteps: string[], clientSteps: string[]): string {
  const testdef = (n: string, steps: string[]) => ({
    from: "inline",
    name: n,
    path: `inline/${n}.yaml`,
    repository: { metadata: { format: "Lava-Test Test Definition 1.0", name: n }, run: { steps } },
  });
  return stringify({
    job_name: name,
    visibility: "public",
    timeouts: { job: { minutes: 8 }, action: { minutes: 4 } },
    protocols: {
      "lava-multinode": {
        timeout: { seconds: timeoutSeconds },
        roles: { client: { device_type: "qemu", count: 1 }, server: { device_type: "qemu", count: 1 } },
      },
    },
    actions: [
      {
        deploy: {
          role: ["client", "server"],
          to: "tmpfs",
          os: "oe",
          images: {
            kernel: { image_arg: '-kernel {kernel} -append "console=ttyS0,115200 quiet"', url: `${artifactsUrl}/vmlinuz` },
            initrd: { image_arg: "-initrd {initrd}", url: `${artifactsUrl}/initramfs.cpio.gz` },
          },
        },
      },
      { boot: { role: ["client", "server"], method: "qemu", media: "tmpfs", prompts: ["magma-dut:/# "] } },
      { test: { role: ["server"], definitions: [testdef("server", serverSteps)] } },
      { test: { role: ["client"], definitions: [testdef("client", clientSteps)] } },
    ],
  });
}

interface JobView {
  id: number;
  state: string;
  health: string;
  error_type?: string | null;
}

async function submitAndWait(definition: string): Promise<{ subIds: string[]; jobs: JobView[] }> {
  const r = await rest("POST", "jobs/", { definition });
  expect(r.status).toBe(201);
  const subIds = r.json["job_ids"] as string[];
  const first = Number.parseInt(subIds[0]!, 10);
  expect(subIds).toEqual([`${first}.0`, `${first}.1`]);
  const ids = [first, first + 1];
  const jobs = await waitFor("both sub-jobs finished", 8 * 60_000, async () => {
    const js = await Promise.all(ids.map(async (id) => (await rest("GET", `jobs/${id}/`)).json as unknown as JobView));
    return js.every((j) => j.state === "Finished") ? js : undefined;
  });
  return { subIds, jobs };
}

/** The job's log (LAVA's output.yaml), for failure messages. */
async function jobLog(jobId: number): Promise<string> {
  const res = await fetch(`${instanceUrl}/api/v0.2/jobs/${jobId}/logs/`, { headers: { authorization: `Token ${TOKEN}` } });
  return res.text();
}

async function cases(jobId: number): Promise<{ name: string; result: string; suite: string; measurement: string | null }[]> {
  const r = await rest("GET", `jobs/${jobId}/tests/?limit=200`);
  return (r.json["results"] as { name: string; result: string; suite: string; measurement: string | null }[]) ?? [];
}

describe("MultiNode on QEMU", () => {
  it("a two-role job: the server's lava-send reaches the client's lava-wait, both sync, both sub-jobs Complete", async () => {
    const { jobs } = await submitAndWait(
      twoRoleJob(
        "multinode two roles",
        180,
        ["lava-test-case role --shell 'test \"$(lava-role)\" = server'", "lava-send ready port=8080 host=srv", "lava-sync done"],
        [
          'lava-test-case group --shell \'lava-group server && test "$(lava-self)" = "$LAVA_JOB_ID"\'',
          "lava-wait ready",
          "cat /tmp/lava_multi_node_cache.txt",
          "lava-test-case received-port --result pass --measurement $(sed -n 's/.*:port=//p' /tmp/lava_multi_node_cache.txt)",
          "lava-sync done",
        ],
      ),
    );
    const [client, server] = jobs as [JobView, JobView];
    if (process.env["MAGMA_MULTINODE_DEBUG"]) console.log(await jobLog(client.id));
    expect([client.health, server.health]).toEqual(["Complete", "Complete"]);
    const clientCases = await cases(client.id);
    const byName = new Map(clientCases.map((c) => [c.name, c]));
    expect(byName.get("received-port")?.result).toBe("pass");
    expect(Number(byName.get("received-port")?.measurement)).toBe(8080);
    expect(byName.get("group")?.result).toBe("pass");
    expect(byName.get("multinode-wait-ready")?.result).toBe("pass");
    expect(byName.get("multinode-sync-done")?.result).toBe("pass");
    const serverCases = new Map((await cases(server.id)).map((c) => [c.name, c.result]));
    expect(serverCases.get("role")).toBe("pass");
    expect(serverCases.get("multinode-send-ready")).toBe("pass");
  });

  it("a peer that never sends: the client's lava-wait ends the sub-job Incomplete with MultinodeTimeout", async () => {
    const { jobs } = await submitAndWait(twoRoleJob("multinode missing peer", 20, ["echo server-does-nothing"], ["lava-wait never-sent"]));
    const [client, server] = jobs as [JobView, JobView];
    expect(server.health).toBe("Complete");
    expect(client.health).toBe("Incomplete");
    expect(client.error_type).toBe("MultinodeTimeout");
    const clientCases = new Map((await cases(client.id)).map((c) => [c.name, c.result]));
    expect(clientCases.get("multinode-wait-never-sent")).toBe("fail");
    const job = (await cases(client.id)).find((c) => c.suite === "lava" && c.name === "job");
    expect(job?.result).toBe("fail");
  });
});
