/**
 * The invariants of issue 5, read straight from the databases of every lab and of the frontend:
 * no job missing, no result or log line missing or duplicated (nor counted twice in a job's result
 * rollup), no device or job stuck.
 */
import { waitFor } from "../../../infra/demo/clients.ts";
import { q, type FaultStack } from "./fault-stack.ts";

export interface InvariantReport {
  /** jobs on every lab */
  jobs: number;
  finished: number;
  /** test cases compared between labs and frontend */
  results: number;
  /** log lines checked (contiguous 0..n-1) */
  logLines: number;
  lost: string[];
  duplicated: string[];
  stuck: string[];
}

const ACTIVE = ["Submitted", "Scheduling", "Scheduled", "Running", "Canceling"];

/**
 * Checks every lab and the frontend once.
 * @param allowActive jobs may still be queued or running (mid-soak); devices may then be busy
 */
export async function checkInvariants(f: FaultStack, opts: { allowActive?: boolean } = {}): Promise<InvariantReport> {
  const r: InvariantReport = { jobs: 0, finished: 0, results: 0, logLines: 0, lost: [], duplicated: [], stuck: [] };
  const fe = await q<{
    lab: string;
    remote_id: number;
    state: string;
    health: string;
    cases: number;
    dup_cases: number;
    rollup: string;
    counted: string;
  }>(
    f,
    "frontend",
    `SELECT i.name AS lab, j.remote_id, j.state, j.health,
            (SELECT count(*)::int FROM federated_test_case c WHERE c.job_id = j.id) AS cases,
            (SELECT count(*)::int FROM (SELECT 1 FROM federated_test_case c WHERE c.job_id = j.id AND c.suite <> 'lava'
                                        GROUP BY c.suite, c.test_set, c.name HAVING count(*) > 1) d) AS dup_cases,
            concat_ws('/', j.pass_count, j.fail_count, j.skip_count, j.unknown_count) AS rollup,
            (SELECT concat_ws('/', count(*) FILTER (WHERE c.result = 'pass'), count(*) FILTER (WHERE c.result = 'fail'),
                              count(*) FILTER (WHERE c.result = 'skip'), count(*) FILTER (WHERE c.result NOT IN ('pass', 'fail', 'skip')))
             FROM federated_test_case c WHERE c.job_id = j.id AND c.suite <> 'lava') AS counted
     FROM federated_job j JOIN instance i ON i.id = j.instance_id`,
  );
  // the pass/fail/skip/unknown rollup (kept by ingest, live pushes included) equals the stored cases
  for (const x of fe)
    if (x.rollup !== x.counted) r.duplicated.push(`${x.lab}/${x.remote_id}: frontend rollup ${x.rollup} but its cases count ${x.counted}`);
  const feByKey = new Map(fe.map((x) => [`${x.lab}/${x.remote_id}`, x]));
  for (const l of f.stack.labs) {
    const jobs = await q<{
      id: number;
      state: string;
      health: string;
      log_line_count: number;
      lines: number;
      min_idx: number | null;
      max_idx: number | null;
      cases: number;
      dup_cases: number;
    }>(
      f,
      l.name,
      `SELECT j.id, j.state::text, j.health::text, j.log_line_count,
              (SELECT count(*)::int FROM log_lines x WHERE x.job_id = j.id) AS lines,
              (SELECT min(index) FROM log_lines x WHERE x.job_id = j.id) AS min_idx,
              (SELECT max(index) FROM log_lines x WHERE x.job_id = j.id) AS max_idx,
              (SELECT count(*)::int FROM test_cases c WHERE c.job_id = j.id) AS cases,
              (SELECT count(*)::int FROM (SELECT 1 FROM test_cases c JOIN test_suites s ON s.id = c.suite_id WHERE c.job_id = j.id AND s.name <> 'lava'
                                          GROUP BY s.name, c.test_set, c.name HAVING count(*) > 1) d) AS dup_cases
       FROM test_jobs j ORDER BY j.id`,
    );
    for (const j of jobs) {
      const key = `${l.name}/${j.id}`;
      r.jobs++;
      r.logLines += j.lines;
      if (j.lines !== j.log_line_count) r.lost.push(`${key}: ${j.lines} log lines stored, log_line_count ${j.log_line_count}`);
      if (j.lines > 0 && (j.min_idx !== 0 || j.max_idx !== j.lines - 1))
        r.lost.push(`${key}: log line indexes ${j.min_idx}..${j.max_idx} for ${j.lines} lines (not contiguous)`);
      if (j.dup_cases > 0) r.duplicated.push(`${key}: ${j.dup_cases} test case name(s) stored twice on the lab`);
      if (ACTIVE.includes(j.state)) {
        if (!opts.allowActive) r.stuck.push(`${key}: still ${j.state}`);
        continue;
      }
      r.finished++;
      const mine = feByKey.get(key);
      if (!mine) {
        r.lost.push(`${key}: finished (${j.health}) on the lab, missing in the frontend`);
        continue;
      }
      if (mine.state !== "Finished" || mine.health !== j.health)
        r.lost.push(`${key}: frontend has ${mine.state}/${mine.health}, lab Finished/${j.health}`);
      r.results += j.cases;
      if (mine.cases < j.cases) r.lost.push(`${key}: frontend has ${mine.cases} of the lab's ${j.cases} test cases`);
      if (mine.cases > j.cases) r.duplicated.push(`${key}: frontend has ${mine.cases} test cases, the lab ${j.cases}`);
      if (mine.dup_cases > 0) r.duplicated.push(`${key}: ${mine.dup_cases} test case name(s) twice in the frontend`);
    }
    const ids = new Set(jobs.map((j) => j.id));
    for (const x of fe)
      if (x.lab === l.name && !ids.has(x.remote_id)) r.duplicated.push(`${l.name}/${x.remote_id}: in the frontend but not on the lab`);
    if (!opts.allowActive) {
      const devices = await q<{ hostname: string; state: string; current_job_id: number | null }>(
        f,
        l.name,
        "SELECT hostname, state::text, current_job_id FROM devices",
      );
      for (const d of devices)
        if (d.state !== "Idle" || d.current_job_id !== null)
          r.stuck.push(`${l.name} device ${d.hostname}: ${d.state} (job ${d.current_job_id ?? "-"})`);
      const qemu = f.qemuPids(l.name);
      if (qemu.length) r.stuck.push(`${l.name}: QEMU still running (pids ${qemu.join(", ")}) with no active job`);
    }
  }
  return r;
}

const clean = (r: InvariantReport) => r.lost.length === 0 && r.duplicated.length === 0 && r.stuck.length === 0;

/**
 * Waits until the invariants hold (the frontend caught up by callbacks or reconciliation).
 * @throws Error listing what is still lost, duplicated or stuck after `timeoutMs`
 */
export async function waitConsistent(f: FaultStack, timeoutMs = 60_000, opts: { allowActive?: boolean } = {}): Promise<InvariantReport> {
  let last: InvariantReport | undefined;
  try {
    return await waitFor(
      "federation consistent",
      timeoutMs,
      async () => {
        last = await checkInvariants(f, opts);
        return clean(last) ? last : undefined;
      },
      1000,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}: ${JSON.stringify({ lost: last?.lost, duplicated: last?.duplicated, stuck: last?.stuck }, null, 1)}`,
    );
  }
}
