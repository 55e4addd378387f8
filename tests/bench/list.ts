/**
 * Instance job list against a real instance process: 100 000 jobs loaded with COPY (mixed states,
 * LAVA-sized definitions), `GET /api/v0.2/jobs/?limit=100` (newest first) and a filtered variant
 * (`state=Submitted&ordering=-id`), with the admin token, sequential keep-alive requests.
 * and XML-RPC `scheduler.jobs.list(null, null, 0, 100)` as lavacli calls it (issue #15 target:
 * p95 < 5 ms for both). Also records EXPLAIN ANALYZE of the page query in the run log.
 */
import { LavaApiClient } from "./lava-api-client.ts";
import {
  ADMIN_TOKEN,
  auth,
  connect,
  copyRows,
  createDatabase,
  httpPool,
  jobYaml,
  nowMs,
  req,
  seedLab,
  startInstance,
  WARM_UP_MS,
  warmUp,
} from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const STATES = ["Finished", "Finished", "Finished", "Finished", "Finished", "Finished", "Finished", "Running", "Scheduled", "Submitted"];

export async function benchList(o: BenchOptions): Promise<Measure[]> {
  const total = 100_000;
  const db = await createDatabase("instance", "list");
  const types = await seedLab(db, {
    workers: 10,
    devices: [
      { type: "bench", count: 50 },
      { type: "qemu", count: 50 },
    ],
  });
  const c = await connect(db);
  // ~1.4 KB per job as in LAVA's bench (definition + original_definition)
  const definition = `${jobYaml("bench", "list")}\n# ${"x".repeat(500)}`;
  const base = Date.now() - total * 1000;
  await copyRows(
    c,
    "test_jobs",
    [
      "submitter_id",
      "description",
      "requested_device_type_id",
      "priority",
      "definition",
      "original_definition",
      "token_nonce",
      "submit_time",
      "state",
      "health",
      "metadata",
      "start_time",
      "end_time",
    ],
    (function* () {
      for (let i = 0; i < total; i++) {
        const state = STATES[i % STATES.length]!;
        const t = base + i * 1000;
        yield [
          1,
          `list-${i}`,
          i % 2 ? types["bench"] : types["qemu"],
          50,
          definition,
          definition,
          `tok${i}`,
          new Date(t).toISOString(),
          state,
          state === "Finished" ? (i % 11 ? "Complete" : "Incomplete") : "Unknown",
          { "kernel.tree": "mainline", build: String(i) },
          state === "Finished" || state === "Running" ? new Date(t + 100).toISOString() : null,
          state === "Finished" ? new Date(t + 20000).toISOString() : null,
        ];
      }
    })(),
  );
  await c.query("VACUUM ANALYZE test_jobs");
  const inst = await startInstance("list", db);
  const pool = httpPool(inst.url, 1);

  const run = async (path: string, n: number) => {
    await warmUp(() => req(pool, "GET", path, { headers: auth() }), WARM_UP_MS / 2);
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = nowMs();
      const r = await req<{ results: unknown[] }>(pool, "GET", path, { headers: auth() });
      xs.push(nowMs() - t0);
      if (r.body.results.length !== 100) throw new Error(`${path}: ${r.body.results.length} results`);
    }
    return xs;
  };
  const n = o.quick ? 100 : 300;
  const plain = await run("/api/v0.2/jobs/?limit=100", n);
  const filtered = await run("/api/v0.2/jobs/?limit=100&state=Submitted&ordering=-id", n);
  const rpc = new LavaApiClient({ label: "magma", url: inst.url, user: "admin", token: ADMIN_TOKEN });
  const rpcList: number[] = [];
  await warmUp(() => rpc.rpcList(100), WARM_UP_MS / 2);
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    const got = await rpc.rpcList(100);
    rpcList.push(nowMs() - t0);
    if (got !== 100) throw new Error(`scheduler.jobs.list: ${got} jobs`);
  }
  await rpc.close();
  const plan = await c.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM test_jobs WHERE state = 'Submitted' ORDER BY id DESC LIMIT 100`);
  console.log(`[bench]   EXPLAIN ANALYZE filtered page:\n${plan.rows.map((r) => `      ${r["QUERY PLAN"]}`).join("\n")}`);
  const target = { stat: "p95" as const, op: "<" as const, value: 5 };
  return [
    measure("list", "GET jobs/?limit=100 among 100 000 jobs", "ms", plain, { target, lava: "27–50 at 2 100" }),
    measure("list", "GET jobs/?limit=100&state=Submitted&ordering=-id among 100 000", "ms", filtered, { target, lava: "50 at 2 100" }),
    measure("list", "XML-RPC scheduler.jobs.list 100 among 100 000 jobs", "ms", rpcList, { target, lava: "12.6 (p50, side by side)" }),
  ];
}
