/**
 * Huge jobs (issue 13 item 6): one Finished job with 500 000 test cases and 2 000 000 log lines
 * (quick: 50 000 and 200 000) on a real instance process crosses the federation to the frontend in
 * bounded chunks: its federation payload carries the job and the totals only, the frontend's transfer
 * (`npm run transfer`, the frontend's code in its own process) pulls the cases 1 000 per keyset page
 * and the log 10 000 lines per range. Measured: the wall time until everything is stored, the peak
 * RSS of the transfer process and of the instance (VmHWM) — both bounded by the chunk size, not by
 * the job — and it is checked that every case and line arrived exactly once (else the group fails).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { STATE_DIR, connect, createDatabase, nowMs, startInstance } from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";
import { addLabToFrontend, expectedRollup, frontendCopy, runTransferProcess, seedHugeJob } from "../tools/huge-job.ts";

/** Peak resident set size of a live process so far, bytes (VmHWM). */
function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export async function benchHugeJob(o: BenchOptions): Promise<Measure[]> {
  const cases = o.quick ? 50_000 : 500_000;
  const lines = o.quick ? 200_000 : 2_000_000;
  const label = `${cases.toLocaleString("en-US")} cases + ${lines.toLocaleString("en-US")} log lines`;
  const instanceDb = await createDatabase("instance", "huge_instance");
  const c = await connect(instanceDb);
  const t0 = nowMs();
  const jobId = await seedHugeJob(c, instanceDb, cases, lines);
  console.log(`[bench]   huge job seeded with COPY in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  const instance = await startInstance("huge", instanceDb, { MAGMA_LOG_LEVEL: "warn" });
  const frontendDb = await createDatabase("frontend", "huge_frontend");
  const fe = await connect(frontendDb);
  await addLabToFrontend(fe, "lab-huge", instance.url);

  const t1 = nowMs();
  const run = await runTransferProcess({
    frontendDbUrl: frontendDb,
    lab: "lab-huge",
    jobId,
    logPath: path.join(STATE_DIR, "huge-transfer.log"),
  }).done;
  const seconds = (nowMs() - t1) / 1000;
  if (run.code !== 0 || !run.summary?.done) throw new Error(`the transfer did not complete (exit ${run.code}): ${run.output.slice(-2000)}`);
  const copy = await frontendCopy(fe, jobId);
  const want = {
    cases,
    distinctCases: cases,
    ...expectedRollup(cases),
    lines,
    chunksContiguous: true,
    firstLineSeen: 0,
    lastLineSeen: lines - 1,
    done: true,
  };
  for (const [k, v] of Object.entries(want))
    if (copy[k as keyof typeof copy] !== v)
      throw new Error(`the frontend's copy is wrong: ${k} = ${String(copy[k as keyof typeof copy])}, expected ${String(v)}`);
  const frontendMb = run.summary.maxRssKb / 1024;
  const instanceMb = peakRssBytes(instance.pid) / 2 ** 20;
  const note = `${label}; verified exactly once (cases, rollup, contiguous log ranges)`;
  return [
    measure("huge-job", `huge job to the frontend: ${label}`, "s", [seconds], { note }),
    measure("huge-job", "huge job: frontend transfer process peak RSS", "MB", [frontendMb], {
      target: { stat: "max", op: "<", value: 512 },
      note: "one page of 1 000 cases or one range of 10 000 lines in memory at a time",
    }),
    measure("huge-job", "huge job: instance peak RSS (VmHWM) while serving it", "MB", [instanceMb], {
      target: { stat: "max", op: "<", value: 512 },
      note: "keyset pages and line ranges; the federation payload carries no results or log",
    }),
  ];
}
