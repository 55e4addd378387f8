/**
 * Scheduling pass cost, in-process: the instance's exported `schedule(ctx)` (LAVA's `schedule()`:
 * health checks, then jobs, one transaction) on a database filled with COPY — 100 Online workers,
 * 1 000 Idle Good devices of one type, N Submitted jobs.
 *  - one pass assigning 1 000 jobs (N = 10 000), repeated; and how it grows with N = 1k / 10k / 100k;
 *  - a pass with nothing to assign (every device busy, N − 1 000 queued): the steady-state cost;
 *  - all 10 000 queued jobs assigned: 10 passes, the devices freed (jobs finished) between passes,
 *    sum of the pass times.
 */
import { createInstanceDb } from "@magma/db/instance";
import { Notifier } from "../../apps/instance/src/notifier.ts";
import { loadConfig } from "../../apps/instance/src/env.ts";
import { createLogger } from "../../apps/instance/src/logger.ts";
import { schedule } from "../../apps/instance/src/scheduler/scheduler.ts";
import type { InstanceContext } from "../../apps/instance/src/context.ts";
import { connect, copyRows, createDatabase, nowMs, onCleanup, seedLab } from "./lib.ts";
import { measure, median, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const DEVICES = 1000;
const WORKERS = 100;

export async function benchScheduler(o: BenchOptions): Promise<Measure[]> {
  const url = await createDatabase("instance", "scheduler");
  const types = await seedLab(url, { workers: WORKERS, devices: [{ type: "bench", count: DEVICES }] });
  const c = await connect(url);
  const db = createInstanceDb(url, 10);
  onCleanup("scheduler prisma client", () => db.$disconnect());
  const ctx: InstanceContext = {
    db,
    config: { ...loadConfig({}), databaseUrl: url },
    logger: createLogger("silent"),
    notifier: new Notifier(),
    scheduler: null,
    outbox: null,
  };
  const definition = "job_name: bench\ndevice_type: bench\n";

  let loaded = 0;
  const loadJobs = async (n: number) => {
    if (n <= loaded) return;
    const base = Date.now() - 86_400_000;
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
      ],
      (function* () {
        for (let i = loaded; i < n; i++)
          yield [
            1,
            `bench-${i}`,
            types["bench"],
            [25, 50, 50, 50, 75][i % 5],
            definition,
            definition,
            `tok${i}`,
            new Date(base + i).toISOString(),
          ];
      })(),
    );
    loaded = n;
    await c.query("VACUUM ANALYZE test_jobs");
  };
  const reset = async () => {
    await c.query(`UPDATE devices SET state = 'Idle', current_job_id = NULL WHERE state <> 'Idle'`);
    await c.query(`UPDATE test_jobs SET state = 'Submitted', actual_device_id = NULL, health = 'Unknown' WHERE state <> 'Submitted'`);
    await c.query("VACUUM ANALYZE test_jobs, devices");
  };
  const pass = async (expect: number) => {
    const t0 = nowMs();
    const r = await schedule(ctx);
    const ms = nowMs() - t0;
    if (r.jobs !== expect) throw new Error(`scheduling pass assigned ${r.jobs} jobs, expected ${expect}`);
    return ms;
  };

  const out: Measure[] = [];
  const reps = o.quick ? 3 : 5;
  const scales = o.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  await schedule(ctx).catch(() => {}); // warm the client
  for (const n of scales) {
    await loadJobs(n);
    const assign: number[] = [];
    const idle: number[] = [];
    for (let i = 0; i < reps; i++) {
      await reset();
      assign.push(await pass(Math.min(DEVICES, n)));
      idle.push(await pass(0));
    }
    const main = n === 10_000;
    out.push(
      measure(
        "scheduler",
        `one pass: ${n.toLocaleString("en-US")} queued × 1 000 Idle devices (100 workers) → ${Math.min(DEVICES, n)} assigned`,
        "ms",
        assign,
        main ? { target: { stat: "p50", op: "<", value: 100 } } : {},
      ),
      measure(
        "scheduler",
        `pass with nothing to assign: ${Math.max(0, n - DEVICES).toLocaleString("en-US")} queued, all devices busy`,
        "ms",
        idle,
      ),
    );
    if (main) {
      // all 10 000 assigned: 10 passes, devices freed (jobs finished) between them, pass times summed
      const totals: number[] = [];
      for (let i = 0; i < reps; i++) {
        await reset();
        let total = 0;
        for (let k = 0; k < n / DEVICES; k++) {
          total += await pass(DEVICES);
          await c.query(`UPDATE test_jobs SET state = 'Finished', health = 'Complete' WHERE state = 'Scheduled'`);
          await c.query(`UPDATE devices SET state = 'Idle', current_job_id = NULL`);
        }
        totals.push(total);
      }
      out.push(
        measure("scheduler", `all 10 000 queued assigned (10 passes, devices freed between)`, "ms", totals, {
          target: { stat: "p50", op: "<", value: 2000 },
          note: `median pass ${Math.round(median(totals) / 10)} ms`,
        }),
      );
    }
  }
  return out;
}
