/**
 * `npm run bench [-- --quick] [-- --only=group1,group2]`: Magma's speed and cost against LAVA's
 * figures measured on this kind of machine (kept in report.ts), on the real processes, PostgreSQL and Redis
 * of this machine. Prints a table and writes bench-results.json (repository root). Each group creates
 * its own databases, ports and processes and tears them down, also on failure or Ctrl-C.
 *   --quick   fewer repetitions and smaller data (about 4 minutes on an idle machine)
 *   --only=…  run only these groups (lifecycle, submit, scheduler, logs, list, federation, federation-http, results, memory, huge-job, qemu, against-lava)
 *   --consumers N  federation ingest through HTTP with 1, 2, … N `next start` processes (each a
 *             callback consumer) on one Redis: throughput per N (see federation-http.ts, docs/scaling.md);
 *             with --only, name the group `consumers`
 *   --against-lava URL TOKEN DEVICE_TYPE [--lava-user NAME]
 *             also runs the same LAVA-API client against that LAVA server and a Magma instance,
 *             alternately, and reports both medians and their ratio (see against-lava.ts)
 *   --lava-qemu-job FILE  with --against-lava: also the smallest QEMU job on both labs (FILE: that
 *             job's LAVA definition), submit → Running and → Finished side by side
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { PG_URL, ROOT, STATE_DIR, cleanupAll } from "./lib.ts";
import { machineInfo, renderTable, writeResults, type Measure } from "./report.ts";
import { benchLifecycle } from "./lifecycle.ts";
import { benchSubmit } from "./submit.ts";
import { benchScheduler } from "./scheduler.ts";
import { benchLogs } from "./logs.ts";
import { benchList } from "./list.ts";
import { benchFederation } from "./federation.ts";
import { benchResults } from "./results.ts";
import { benchConsumers, benchFederationHttp } from "./federation-http.ts";
import { benchMemory } from "./memory.ts";
import { benchHugeJob } from "./huge-job.ts";
import { benchQemu } from "./qemu.ts";
import { benchAgainstLava, benchAgainstLavaQemu, parseAgainstLava } from "./against-lava.ts";
import { bundleIsFresh } from "../../infra/demo/app-entry.ts";

export interface BenchOptions {
  quick: boolean;
}

const GROUPS: Record<string, (o: BenchOptions) => Promise<Measure[]>> = {
  lifecycle: benchLifecycle,
  submit: benchSubmit,
  scheduler: benchScheduler,
  logs: benchLogs,
  list: benchList,
  federation: benchFederation,
  results: benchResults,
  "federation-http": benchFederationHttp,
  memory: benchMemory,
  "huge-job": benchHugeJob,
  qemu: benchQemu,
};

async function postgresVersion(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL });
  try {
    await c.connect();
    return ((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? "").split(" ")[0];
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const only = args
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",")
    .filter(Boolean);
  const againstLava = parseAgainstLava(args, quick);
  const consumersArg = args.indexOf("--consumers");
  const consumers = consumersArg >= 0 ? Number(args[consumersArg + 1]) : 0;
  if (consumersArg >= 0 && !(Number.isInteger(consumers) && consumers >= 1 && consumers <= 8))
    throw new Error(`--consumers: a number of frontend processes from 1 to 8, got '${args[consumersArg + 1] ?? ""}'`);
  for (const g of only ?? [])
    if (!GROUPS[g] && g !== "against-lava" && g !== "consumers")
      throw new Error(`unknown group '${g}' (groups: ${Object.keys(GROUPS).join(", ")}, against-lava, consumers)`);
  const started = Date.now();
  const measures: Measure[] = [];
  const errors: string[] = [];
  console.log(`[bench] ${quick ? "quick" : "full"} run; process logs in ${STATE_DIR}`);
  // instances and workers run as shipped: the esbuild bundles, built unless fresh (same sources and
  // package-lock as when built); MAGMA_NO_BUNDLE=1 measures the sources through tsx
  if (process.env["MAGMA_NO_BUNDLE"] !== "1") {
    if (!bundleIsFresh("instance", "main") || !bundleIsFresh("instance", "cli"))
      execFileSync(process.execPath, [path.join(ROOT, "apps/instance/scripts/build.mjs")], { stdio: "inherit" });
    // the worker too: the demo stack of the qemu group runs its bundle when fresh, as shipped
    if (!bundleIsFresh("worker", "main"))
      execFileSync(process.execPath, [path.join(ROOT, "apps/worker/scripts/build.mjs")], { stdio: "inherit" });
  }
  for (const [name, fn] of Object.entries(GROUPS)) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    console.log(`[bench] ${name} …`);
    try {
      const ms = await fn({ quick });
      measures.push(...ms);
      for (const m of ms)
        console.log(`[bench]   ${m.name}: p50 ${m.p50} ${m.unit}, p95 ${m.p95} (n ${m.n})${m.met === false ? "  — target missed" : ""}`);
    } catch (e) {
      const msg = `${name}: ${(e as Error).stack ?? e}`;
      errors.push(msg);
      console.error(`[bench] ${msg}`);
    } finally {
      await cleanupAll();
    }
    console.log(`[bench] ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (consumers && (!only || only.includes("consumers"))) {
    console.log(`[bench] consumers: 1 … ${consumers} frontend processes on one Redis …`);
    try {
      const ms = await benchConsumers({ quick }, consumers);
      measures.push(...ms);
      for (const m of ms) console.log(`[bench]   ${m.name}: p50 ${m.p50} ${m.unit} (${m.note})`);
    } catch (e) {
      const msg = `consumers: ${(e as Error).stack ?? e}`;
      errors.push(msg);
      console.error(`[bench] ${msg}`);
    } finally {
      await cleanupAll();
    }
  }
  if (againstLava && (!only || only.includes("against-lava"))) {
    console.log(`[bench] against-lava: ${againstLava.url} (device type ${againstLava.deviceType}) and a Magma instance, alternately …`);
    try {
      const ms = await benchAgainstLava(againstLava);
      if (againstLava.qemuJob) {
        console.log(`[bench] against-lava: the smallest QEMU job on both labs, alternately …`);
        ms.push(...(await benchAgainstLavaQemu({ ...againstLava, qemuJob: againstLava.qemuJob })));
      }
      measures.push(...ms);
      for (const m of ms) console.log(`[bench]   ${m.name}: LAVA ${m.sides?.lava.p50} ${m.unit}, Magma ${m.sides?.magma.p50} (${m.note})`);
    } catch (e) {
      const msg = `against-lava: ${(e as Error).stack ?? e}`;
      errors.push(msg);
      console.error(`[bench] ${msg}`);
    } finally {
      await cleanupAll();
    }
  }
  const machine = machineInfo(await postgresVersion());
  const durationS = Math.round((Date.now() - started) / 1000);
  console.log(renderTable(measures));
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, PostgreSQL ${machine.postgres ?? "?"}; ${durationS} s`,
  );
  const file = path.join(ROOT, "bench-results.json");
  writeResults(file, { mode: quick ? "quick" : "full", date: new Date().toISOString(), durationS, machine, measures, errors });
  console.log(`[bench] wrote ${file}`);
  if (errors.length) console.error(`[bench] ${errors.length} group(s) failed:\n${errors.map((e) => `  ${e.split("\n")[0]}`).join("\n")}`);
  return errors.length ? 1 : 0;
}

let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`[bench] ${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    console.error(e);
    await cleanupAll();
    process.exit(1);
  },
);
