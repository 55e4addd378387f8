/**
 * Resident memory (VmRSS from /proc) of real instance processes:
 *  - idle: small lab, a few requests served, then left alone;
 *  - loaded: 1 000 devices on 100 workers, all 100 workers long-polling (wait_ms 2 000, so each
 *    re-pings every 2 s) and a stream of submissions, sampled every 250 ms;
 *  - per running job on the worker: a real worker daemon running boot-minimal jobs on simulated
 *    consoles, RSS growth divided by the number of running jobs.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { WORKER_API_PREFIX, WORKER_PROTOCOL_VERSION, WORKER_TOKEN_HEADER } from "@magma/protocol";
import {
  ROOT,
  STATE_DIR,
  WORKER_TOKEN,
  auth,
  connect,
  createDatabase,
  httpPool,
  jobYaml,
  nowMs,
  req,
  rssBytes,
  seedLab,
  sleep,
  spawnProc,
  startInstance,
  waitUntil,
  WARM_UP_MS,
  workerName,
} from "./lib.ts";
import { measure, notMeasured, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";
import { workerBundle } from "./worker-bundle.ts";
import { WORKER_ENV, WORKER_NODE_FLAGS } from "../../infra/demo/app-entry.ts";

const MB = 1e6;

export async function benchMemory(o: BenchOptions): Promise<Measure[]> {
  const out: Measure[] = [];
  {
    const db = await createDatabase("instance", "mem_idle");
    await seedLab(db, { workers: 1, devices: [{ type: "bench", count: 2 }] });
    const inst = await startInstance("mem-idle", db);
    const pool = httpPool(inst.url, 1);
    for (let i = 0; i < 10; i++) {
      await req(pool, "GET", "/api/v0.2/system/version/");
      await req(pool, "GET", "/api/v0.2/jobs/?limit=10", { headers: auth() });
    }
    await sleep(2000);
    const xs: number[] = [];
    for (let i = 0; i < 8; i++) {
      xs.push(rssBytes(inst.pid) / MB);
      await sleep(250);
    }
    out.push(
      measure("memory", "instance RSS, idle", "MB", xs, { target: { stat: "p50", op: "<", value: 80 }, lava: "706 MiB (server total)" }),
    );
    await inst.stop();
  }
  {
    const db = await createDatabase("instance", "mem_load");
    await seedLab(db, { workers: 100, devices: [{ type: "bench", count: 1000 }], emptyTypes: ["queued"] });
    const inst = await startInstance("mem-load", db);
    const pool = httpPool(inst.url, 110);
    let stop = false;
    const pingers = Array.from({ length: 100 }, async (_, w) => {
      while (!stop) {
        await req(pool, "GET", `${WORKER_API_PREFIX}/workers/${workerName(w)}/?version=${WORKER_PROTOCOL_VERSION}&wait_ms=2000`, {
          headers: { [WORKER_TOKEN_HEADER]: WORKER_TOKEN },
        });
      }
    });
    const definition = jobYaml("queued", "mem");
    const submitter = (async () => {
      while (!stop) {
        await req(pool, "POST", "/api/v0.2/jobs/", { body: { definition }, headers: auth() });
        await sleep(5);
      }
    })();
    const xs: number[] = [];
    const seconds = o.quick ? 4 : 20;
    for (let i = 0; i < seconds * 4; i++) {
      await sleep(250);
      xs.push(rssBytes(inst.pid) / MB);
    }
    stop = true;
    await Promise.all([...pingers, submitter]);
    out.push(
      measure("memory", "instance RSS, 1 000 devices, 100 workers long-polling + submissions", "MB", xs, {
        target: { stat: "max", op: "<", value: 250 },
        note: `sampled every 250 ms for ${seconds} s`,
      }),
    );
  }
  if (!existsSync(path.join(ROOT, "apps/worker/src/main.ts"))) {
    out.push(
      notMeasured("memory", "worker RSS per running job", "MB", "worker daemon (apps/worker/src/main.ts) not there yet", {
        target: { stat: "p50", op: "<", value: 10 },
        lava: "161 MiB",
      }),
    );
  } else {
    out.push(...(await workerDaemon(o)));
  }
  return out;
}

/**
 * One real worker daemon (apps/worker main bundled with esbuild, plain `node`, see worker-bundle.ts)
 * on one instance:
 *  - worker RSS idle, after one warm-up job;
 *  - submit → Running on an idle device (issue #15: p50 < 20 ms): REST submit of a `boot: minimal`
 *    job on a device whose console gives its prompt at once, from the request leaving the client
 *    to the job's `start_time` (set by the instance when the worker reports Running; same clock);
 *  - worker RSS growth per concurrently running job, with `jobs` devices whose console is a simulated board — the dictionary's
 * `connection_command` prints boot output for 20 s, then gives a shell prompt — running
 * `boot: minimal` jobs, all at once, after one warm-up job. Samples (RSS while they run − RSS idle
 * after the warm-up) / jobs.
 */
async function workerDaemon(o: BenchOptions): Promise<Measure[]> {
  const jobs = 8;
  const db = await createDatabase("instance", "mem_worker");
  const types = await seedLab(db, {
    workers: 1,
    devices: [
      { type: "sim", count: jobs },
      { type: "simfast", count: 1 },
    ],
  });
  const c = await connect(db);
  const simConsole = `for i in $(seq 1 20); do echo "sim-board: booting $i"; sleep 1; done; PS1='sim# ' exec sh -i`;
  await c.query(`UPDATE device_types SET dictionary = $1 WHERE id = $2`, [{ connection_command: simConsole }, types["sim"]]);
  await c.query(`UPDATE device_types SET dictionary = $1 WHERE id = $2`, [
    { connection_command: "PS1='sim# ' exec sh -i" },
    types["simfast"],
  ]);
  const inst = await startInstance("mem-worker", db);
  // node flags and environment as the worker is shipped (systemd unit, docker-compose, demo stack: WORKER_NODE_FLAGS, WORKER_ENV)
  const worker = spawnProc("mem-worker-worker", [...WORKER_NODE_FLAGS, await workerBundle()], {
    ...WORKER_ENV,
    MAGMA_WORKER_NAME: workerName(0),
    MAGMA_INSTANCE_URL: inst.url,
    MAGMA_WORKER_TOKEN: WORKER_TOKEN,
    MAGMA_WORKER_DIR: path.join(STATE_DIR, "mem-worker"),
    MAGMA_PING_WAIT_MS: "1000",
    MAGMA_LOG_LEVEL: "info",
  });
  const pool = httpPool(inst.url, 2);
  // the worker is up once it pinged (last_ping moves)
  await waitUntil(
    "worker ping",
    60_000,
    async () =>
      (await c.query(`SELECT 1 FROM workers WHERE hostname = $1 AND last_ping > now() - interval '2 seconds'`, [workerName(0)])).rowCount,
  );
  const simJob = (type: string) =>
    [
      "job_name: mem-sim",
      `device_type: ${type}`,
      "visibility: public",
      "timeouts: {job: {minutes: 3}, action: {minutes: 2}}",
      "actions:",
      "- boot: {method: minimal, prompts: ['sim# '], timeout: {minutes: 2}}",
    ].join("\n");
  // one job first, so code loaded and compiled once is not counted per job
  const [warm] = (
    await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", { body: { definition: simJob("simfast") }, headers: auth() })
  ).body.job_ids;
  await waitUntil(
    "warm-up job Finished",
    30_000,
    async () => (await c.query(`SELECT 1 FROM test_jobs WHERE id = $1 AND state = 'Finished'`, [warm])).rowCount,
    100,
  );
  await sleep(3000);
  const idle: number[] = [];
  for (let i = 0; i < 8; i++) {
    idle.push(rssBytes(worker.pid) / MB);
    await sleep(250);
  }
  const idleRss = [...idle];
  const base = idle.sort((a, b) => a - b)[idle.length >> 1]!;
  // submit → Running on the idle simfast device, one job at a time
  const fast = simJob("simfast");
  const toRunning: number[] = [];
  const reps = o.quick ? 15 : 50;
  // jobs for WARM_UP_MS (at least 3) before the measured ones, as in the lifecycle group
  const warmEnd = nowMs() + WARM_UP_MS;
  let lastEnd: Date | null = null;
  for (let i = 0, measured = false; toRunning.length < reps; i++) {
    measured ||= i >= 3 && nowMs() >= warmEnd;
    // the worker's next long-poll is waiting at the instance: it pinged after the last job ended
    if (lastEnd)
      await waitUntil("the worker's next ping", 10_000, async () => {
        const r = await c.query(`SELECT 1 FROM workers WHERE hostname = $1 AND last_ping > $2`, [workerName(0), lastEnd]);
        return r.rowCount;
      });
    const t0 = nowMs();
    const [id] = (await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", { body: { definition: fast }, headers: auth() })).body
      .job_ids;
    const started = await waitUntil(
      `job ${id} Finished`,
      30_000,
      async () =>
        (
          await c.query<{ t: Date; end: Date }>(
            `SELECT start_time AS t, end_time AS end FROM test_jobs WHERE id = $1 AND state = 'Finished'`,
            [id],
          )
        ).rows[0] ?? null,
      20,
    );
    lastEnd = started.end;
    if (measured) toRunning.push(started.t.getTime() - t0);
  }
  const definition = simJob("sim");
  const ids: number[] = [];
  for (let i = 0; i < jobs; i++)
    ids.push(
      ...(await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", { body: { definition }, headers: auth() })).body.job_ids,
    );
  await waitUntil(
    "all sim jobs Running",
    30_000,
    async () =>
      (await c.query(`SELECT count(*)::int AS n FROM test_jobs WHERE state = 'Running' AND id = ANY($1::int[])`, [ids])).rows[0].n === jobs,
    100,
  );
  await sleep(3000); // consoles open, boot output flowing, logs shipped
  const xs: number[] = [];
  const running: number[] = [];
  const seconds = o.quick ? 4 : 10;
  for (let i = 0; i < seconds * 4; i++) {
    const rss = rssBytes(worker.pid) / MB;
    running.push(rss);
    xs.push((rss - base) / jobs);
    await sleep(250);
  }
  const runningMedian = running.sort((a, b) => a - b)[running.length >> 1]!;
  for (const id of ids) await req(pool, "POST", `/api/v0.2/jobs/${id}/cancel/`, { headers: auth() }).catch(() => {});
  await worker.stop();
  return [
    measure("memory", "worker RSS, idle (esbuild bundle, plain node)", "MB", idleRss, {
      target: { stat: "p50", op: "<", value: 60 },
      note: "after one warm-up job",
    }),
    measure("memory", "worker RSS per running job (excluding the console/QEMU process)", "MB", xs, {
      target: { stat: "p50", op: "<", value: 10 },
      lava: "161 MiB",
      note: `${jobs} concurrent boot-minimal jobs on simulated consoles (connection_command): worker RSS ${Math.round(base)} MB idle after a warm-up job, ${Math.round(runningMedian)} MB running; (running − idle) / ${jobs}`,
    }),
    measure("lifecycle", "submit → Running, idle device, real worker daemon (bundle)", "ms", toRunning, {
      target: { stat: "p50", op: "<", value: 20 },
      lava: "85 (p50, side by side)",
      note: "REST submit → start_time; long-poll ping, boot: minimal on an instant console",
    }),
  ];
}
