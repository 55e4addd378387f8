/**
 * Resident memory (VmRSS from /proc) of real instance processes:
 *  - idle: small lab, a few requests served, then left alone;
 *  - loaded: 1 000 devices on 100 workers, all 100 workers long-polling (wait_ms 2 000, so each
 *    re-pings every 2 s) and a stream of submissions, sampled every 250 ms;
 *  - per running job on the worker: needs the worker daemon (apps/worker main), reported when present.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { WORKER_API_PREFIX, WORKER_PROTOCOL_VERSION, WORKER_TOKEN_HEADER } from "@magma/protocol";
import { ROOT, WORKER_TOKEN, auth, createDatabase, httpPool, jobYaml, req, rssBytes, seedLab, sleep, startInstance, workerName } from "./lib.ts";
import { measure, notMeasured, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

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
    out.push(measure("memory", "instance RSS, idle", "MB", xs, { target: { stat: "p50", op: "<", value: 120 }, lava: "706 MiB (server total)" }));
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
        await req(pool, "GET", `${WORKER_API_PREFIX}/workers/${workerName(w)}/?version=${WORKER_PROTOCOL_VERSION}&wait_ms=2000`, { headers: { [WORKER_TOKEN_HEADER]: WORKER_TOKEN } });
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
    const seconds = o.quick ? 8 : 20;
    for (let i = 0; i < seconds * 4; i++) {
      await sleep(250);
      xs.push(rssBytes(inst.pid) / MB);
    }
    stop = true;
    await Promise.all([...pingers, submitter]);
    out.push(measure("memory", "instance RSS, 1 000 devices, 100 workers long-polling + submissions", "MB", xs, { target: { stat: "max", op: "<", value: 250 }, note: `sampled every 250 ms for ${seconds} s` }));
  }
  if (!existsSync(path.join(ROOT, "apps/worker/src/main.ts"))) {
    out.push(notMeasured("memory", "worker RSS per running job", "MB", "worker daemon (apps/worker/src/main.ts) not there yet", { target: { stat: "p50", op: "<", value: 60 }, lava: "161 MiB" }));
  } else {
    out.push(notMeasured("memory", "worker RSS per running job", "MB", "worker daemon present; measure not written yet (needs an instant device type)", { target: { stat: "p50", op: "<", value: 60 }, lava: "161 MiB" }));
  }
  return out;
}
