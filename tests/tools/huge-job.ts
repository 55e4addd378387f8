/**
 * Huge jobs (issue 13 item 6), shared by the restart test (faults/huge-job.test.ts) and the bench row
 * (bench/huge-job.ts): a Finished job with many test cases and log lines loaded straight into an
 * instance database with COPY, a frontend database that knows the lab, the frontend's transfer run
 * as its own process (`apps/frontend/src/cli/transfer.ts`, the frontend's code), and the checks that
 * everything arrived exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { ADMIN_TOKEN, ROOT, copyRows, seedLab } from "../bench/lib.ts";

/** Suites the cases are spread over (`<k>_suite`, plus LAVA's own `lava` suite for the first 5). */
const SUITES = 20;
export const suiteOfCase = (k: number) => (k < 5 ? "lava" : `${k % SUITES}_suite`);
export const resultOfCase = (k: number) => (k % 97 === 0 ? "fail" : k % 31 === 0 ? "skip" : "pass");

/**
 * Seeds an instance database (user admin with ADMIN_TOKEN, one qemu device type) with one Finished
 * Complete job of `cases` test cases and `lines` log lines. Its metadata names no build: the tests'
 * statuses recomputed for a build (issue 12) are not what this measures.
 * @returns the job's id on the lab
 */
export async function seedHugeJob(c: pg.Client, url: string, cases: number, lines: number): Promise<number> {
  const types = await seedLab(url, { workers: 1, devices: [{ type: "qemu", count: 1 }] });
  const job = await c.query<{ id: number }>(
    `INSERT INTO test_jobs (submitter_id, description, requested_device_type_id, definition, original_definition, state, health,
                            token_nonce, start_time, end_time, log_line_count, metadata)
     VALUES (1, 'huge job', $1, $2, $2, 'Finished', 'Complete', 'huge', now() - interval '1 hour', now(), $3, '{"suite": "huge"}')
     RETURNING id`,
    [types["qemu"], "job_name: huge job\ndevice_type: qemu\nvisibility: public\n", lines],
  );
  const jobId = job.rows[0]!.id;
  const suiteIds = new Map<string, number>();
  for (const name of ["lava", ...Array.from({ length: SUITES }, (_, i) => `${i}_suite`)]) {
    const r = await c.query<{ id: number }>(`INSERT INTO test_suites (job_id, name) VALUES ($1, $2) RETURNING id`, [jobId, name]);
    suiteIds.set(name, r.rows[0]!.id);
  }
  await copyRows(
    c,
    "test_cases",
    ["job_id", "suite_id", "name", "result", "measurement", "units", "log_line_index", "start_log_line"],
    (function* () {
      for (let k = 0; k < cases; k++)
        yield [
          jobId,
          suiteIds.get(suiteOfCase(k)),
          `case-${k}`,
          resultOfCase(k),
          k % 10 === 0 ? `${k}.5` : null,
          k % 10 === 0 ? "ms" : "",
          k,
          k,
        ];
    })(),
  );
  await copyRows(
    c,
    "log_lines",
    ["job_id", "index", "dt", "lvl", "msg"],
    (function* () {
      for (let i = 0; i < lines; i++)
        yield [
          jobId,
          i,
          "2026-12-01T10:00:00.000000",
          i % 50 === 0 ? "info" : "target",
          JSON.stringify(`line ${i} of the huge job's console output`),
        ];
    })(),
  );
  await c.query("ANALYZE");
  return jobId;
}

/** Registers the lab in a frontend database (API token in clear: no MAGMA_FRONTEND_SECRET_KEY). */
export async function addLabToFrontend(c: pg.Client, lab: string, url: string): Promise<void> {
  await c.query(
    `INSERT INTO instance (name, url, api_token, callback_token, updated_at) VALUES ($1, $2, $3, 'unused-callback-token', now())`,
    [lab, url, ADMIN_TOKEN],
  );
}

export interface TransferRun {
  child: ChildProcess;
  /** resolves with the exit code (null: killed by a signal) and the JSON summary line, if printed */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; summary: TransferSummary | null; output: string }>;
}

/** The CLI's last line. */
export interface TransferSummary {
  done: boolean;
  casesInserted?: number;
  linesStored?: number;
  resumedFrom?: { casesAfterId: number; logNextLine: number };
  maxRssKb: number;
}

/**
 * Runs the frontend's transfer of one job as a process (`npm run transfer -- LAB JOB_ID`), output
 * appended to `logPath`.
 */
export function runTransferProcess(opts: {
  frontendDbUrl: string;
  lab: string;
  jobId: number;
  page?: number;
  logChunk?: number;
  logPath: string;
}): TransferRun {
  const args = ["--import", "tsx", path.join(ROOT, "apps/frontend/src/cli/transfer.ts"), opts.lab, String(opts.jobId)];
  if (opts.page) args.push("--page", String(opts.page));
  if (opts.logChunk) args.push("--log-chunk", String(opts.logChunk));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      MAGMA_FRONTEND_DATABASE_URL: opts.frontendDbUrl,
      MAGMA_LOG_LEVEL: "warn",
      MAGMA_QUEUE_PREFIX: "unused-by-the-transfer-cli",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = createWriteStream(opts.logPath, { flags: "a" });
  let output = "";
  const keep = (d: Buffer) => {
    out.write(d);
    output = (output + d.toString("utf8")).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; summary: TransferSummary | null; output: string }>(
    (resolve) => {
      child.once("exit", (code, signal) => {
        out.end();
        const last = output
          .trim()
          .split("\n")
          .reverse()
          .find((l) => l.startsWith("{") && l.includes('"maxRssKb"'));
        resolve({ code, signal, summary: last ? (JSON.parse(last) as TransferSummary) : null, output });
      });
    },
  );
  return { child, done };
}

/** What the frontend holds of the job, for the exactly-once checks. */
export async function frontendCopy(
  c: pg.Client,
  remoteId: number,
): Promise<{
  cases: number;
  distinctCases: number;
  pass: number;
  fail: number;
  skip: number;
  lines: number;
  chunksContiguous: boolean;
  firstLineSeen: number | null;
  lastLineSeen: number | null;
  done: boolean;
}> {
  const j = await c.query<{ id: number; pass_count: number; fail_count: number; skip_count: number }>(
    `SELECT id, pass_count, fail_count, skip_count FROM federated_job WHERE remote_id = $1`,
    [remoteId],
  );
  const job = j.rows[0];
  if (!job) throw new Error(`job ${remoteId} is not in the frontend`);
  const cases = await c.query<{ n: number; d: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT remote_case_id)::int AS d FROM federated_test_case WHERE job_id = $1`,
    [job.id],
  );
  // every chunk starts where the previous one's range ended: ranges never overlap nor leave holes
  const chunks = await c.query<{ lines: number; holes: number; first: number | null; last: number | null }>(
    `SELECT coalesce(sum(line_count), 0)::int AS lines,
            count(*) FILTER (WHERE prev_end IS NOT NULL AND prev_end <> first_line)::int AS holes,
            min(first_line) AS first, max(first_line + line_count - 1) AS last
     FROM (SELECT first_line, line_count, lag(first_line + line_count) OVER (ORDER BY first_line) AS prev_end
           FROM federated_log_chunk WHERE job_id = $1) x`,
    [job.id],
  );
  const t = await c.query<{ done: boolean }>(`SELECT done_at IS NOT NULL AS done FROM job_transfer WHERE job_id = $1`, [job.id]);
  const ch = chunks.rows[0]!;
  return {
    cases: cases.rows[0]!.n,
    distinctCases: cases.rows[0]!.d,
    pass: job.pass_count,
    fail: job.fail_count,
    skip: job.skip_count,
    lines: ch.lines,
    chunksContiguous: ch.holes === 0,
    firstLineSeen: ch.first,
    lastLineSeen: ch.last,
    done: t.rows[0]?.done ?? false,
  };
}

/** Expected rollup of `cases` seeded cases (the `lava` suite does not count). */
export function expectedRollup(cases: number): { pass: number; fail: number; skip: number } {
  const r = { pass: 0, fail: 0, skip: 0 };
  for (let k = 5; k < cases; k++) r[resultOfCase(k) as "pass" | "fail" | "skip"]++;
  return r;
}
