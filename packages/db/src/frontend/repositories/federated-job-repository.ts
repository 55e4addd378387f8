import { toJobHealth, toJobState } from "@magma/protocol";
import { Prisma } from "../../generated/frontend/client";
import type { FrontendDb } from "../client.ts";
import { sqlTransaction } from "../direct-sql.ts";
import type {
  TFederatedJob,
  TFederatedJobDetail,
  TFederatedSuite,
  TFederatedTestCase,
  TJobCursor,
  TJobListFilter,
  TJobPage,
  TResultCounts,
  TResultMatrixRow,
  TResultTrendPoint,
  TJobStateCount,
  TViewer,
} from "../dto.ts";
import type { TBuildRef } from "@magma/protocol";
import { jobFilterSql } from "./job-filter-sql.ts";
import { visibleJobsSql, visibleJobsWhere } from "./job-visibility.ts";

/** Who may read a job, as its lab reported it (see job-visibility.ts). */
export interface TJobVisibilityInput {
  /** "public" | "personal" | "group", or "restricted" for a value this frontend cannot read (superusers only). */
  kind: string;
  /** Group names of a "group" job. */
  groups: string[];
}
import {
  addNewJobsToStatuses,
  linkJobsToBuilds,
  lockBranch,
  newStatusCounts,
  recomputeForJobs,
  upsertBuilds,
  type FrontendTx,
  type TNewStatusCounts,
} from "./build-ingest.ts";

/** Job fields carried by one notify callback, already parsed and typed by the caller. */
export interface TIngestJobInput {
  instanceId: number;
  remoteId: number;
  name: string;
  deviceType: string;
  submitter: string;
  state: string;
  health: string;
  /** Monotonic order of (state, health); a lower rank than stored changes nothing. */
  stateRank: number;
  priority: number;
  metadata: Record<string, string>;
  actualDevice: string | null;
  submitTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  errorType: string | null;
  failureComment: string | null;
  definition: string;
  healthCheck: boolean;
  /** Who may read the job (default public: payloads from before visibility travelled). */
  visibility?: TJobVisibilityInput;
  receivedAt: Date;
  /** `logStartLine`: the log line of the case's result (LAVA's log_start_line), when known. */
  cases: Array<Omit<TFederatedTestCase, "id"> & { remoteCaseId: string; logStartLine?: number | null }>;
  /** The build named by the job's metadata (see buildFromMetadata), or null/absent for none. */
  build?: TBuildRef | null;
  /**
   * The job's cases arrive later by its transfer (a huge job): link the build but leave the tests'
   * statuses to finishJobTransfer, which recomputes them once every case is stored.
   */
  deferBuildStatus?: boolean;
}

/** What one ingest did: `stale` = the stored job was already further along, nothing changed. */
export interface TIngestJobResult {
  created: boolean;
  updated: boolean;
  stale: boolean;
  casesInserted: number;
  /** Id of the build the job is linked to (null without build metadata or when stale). */
  buildId: number | null;
  /** Regressions/fixes (re)computed by this ingest (0 unless the job is Finished/Complete with a build). */
  transitions: number;
}

/**
 * Upserts a federated job and its test cases in ONE transaction, idempotently and monotonically
 * (as LAVA's `go_state_*` transitions): the job row is locked (`FOR UPDATE`); a callback whose
 * state rank is below the stored one changes nothing (a late Running after Finished); test cases
 * are inserted with ON CONFLICT DO NOTHING on (instance, remote job, remote case id), so a
 * re-delivered callback counts each case once. Times already known are never cleared.
 * With `input.build`, the (tree, branch) advisory lock is then taken, the job is linked to its build
 * (created on first sight) and, for a Finished/Complete job, the tests' statuses and the regressions
 * and fixes around that build are recomputed in the same transaction (see recomputeForJobs).
 * The one-job case of {@link ingestFederatedJobs}.
 */
export async function ingestFederatedJob(db: FrontendDb, input: TIngestJobInput): Promise<TIngestJobResult> {
  const [r] = await ingestFederatedJobs(db, [input]);
  return r!;
}

/**
 * Ingests several callbacks' jobs in ONE transaction, with the same result as ingesting them one
 * after the other with {@link ingestFederatedJob} in the order given (the callback consumer's
 * batches: one transaction, one branch lock and one recomputation per (build, lab, device type)
 * instead of one of each per callback).
 *
 * Steps, per round (a round holds at most one input per job; a second input of the same job goes
 * to the next round, so its monotonic check sees the first):
 *  1. the job rows: new ones inserted, the others locked and updated unless stale (state rank below
 *     the stored one: such an input stops here), in three statements, rows locked in (lab, remote
 *     id) order so that concurrent batches do not deadlock on them;
 *  2. the test cases of all jobs: one INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING;
 *  3. (first round) the advisory lock of every (tree, branch) named, in key order, after the job
 *     rows, as every writer of builds takes them; then every build of the round is upserted in one
 *     statement (the first input naming it creates it, later ones only fill describe/url/kernel
 *     version still null: see upsertBuilds) and all their jobs linked in another;
 *  4. statuses and regressions recomputed once per (build, lab, device type) of the round's
 *     Finished/Complete, non-Infrastructure jobs (see recomputeForJobs; not for deferBuildStatus).
 * @returns one result per input, in input order; `transitions` of a shared recomputation is reported
 *   on the first job of its (build, lab, device type) and 0 on the others
 * @throws the database's error (nothing is stored then: one transaction)
 */
export async function ingestFederatedJobs(db: FrontendDb, inputs: TIngestJobInput[]): Promise<TIngestJobResult[]> {
  if (!inputs.length) return [];
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  inputs.forEach((input, i) => {
    const k = `${input.instanceId}/${input.remoteId}`;
    const r = seen.get(k) ?? 0;
    seen.set(k, r + 1);
    (rounds[r] ??= []).push(i);
  });
  // on the pg pool directly: Prisma's per-value conversion of these statements' arrays cost more
  // CPU than the rest of a callback's ingest (see direct-sql.ts)
  return sqlTransaction(
    db,
    async (tx) => {
      const out: TIngestJobResult[] = inputs.map(() => ({
        created: false,
        updated: false,
        stale: true,
        casesInserted: 0,
        buildId: null,
        transitions: 0,
      }));
      for (const [n, round] of rounds.entries()) {
        const order = [...round].sort((a, b) => inputs[a]!.instanceId - inputs[b]!.instanceId || inputs[a]!.remoteId - inputs[b]!.remoteId);
        const rowIds = new Map<number, number>();
        const rows = await upsertJobRows(
          tx,
          order.map((i) => inputs[i]!),
        );
        order.forEach((i, k) => {
          const r = rows[k]!;
          out[i] = { created: r.created, updated: r.updated, stale: r.stale, casesInserted: 0, buildId: null, transitions: 0 };
          if (!r.stale) rowIds.set(i, r.rowId);
        });
        const live = order.filter((i) => rowIds.has(i));
        const inserted = await insertManyJobsCases(
          tx,
          live.map((i) => ({
            instanceId: inputs[i]!.instanceId,
            jobRowId: rowIds.get(i)!,
            remoteId: inputs[i]!.remoteId,
            cases: inputs[i]!.cases,
          })),
        );
        for (const i of live) out[i]!.casesInserted = inserted.get(rowIds.get(i)!) ?? 0;
        if (n === 0) {
          // The branch locks only now, after the job rows': labs reporting one branch write their
          // jobs and cases in parallel and take turns for the statuses and regressions. Every writer
          // of builds locks job rows first, then branches (here in key order), so none deadlocks.
          const branches = new Map<string, TBuildRef>();
          for (const input of inputs) if (input.build) branches.set(`${input.build.tree}\n${input.build.branch}`, input.build);
          for (const k of [...branches.keys()].sort()) await lockBranch(tx, branches.get(k)!);
        }
        const builds = new Map<string, { ref: TBuildRef; inputs: number[] }>();
        for (const i of live) {
          const b = inputs[i]!.build;
          if (!b) continue;
          const k = `${b.tree}\n${b.branch}\n${b.commit}`;
          const e = builds.get(k);
          if (e) e.inputs.push(i);
          else builds.set(k, { ref: b, inputs: [i] });
        }
        // every build of the round in one statement, its jobs linked in another, as one-by-one
        // ingest would leave them (the first input naming a build creates it)
        const list = [...builds.values()].map((e) => ({ ...e, inputs: [...e.inputs].sort((a, b) => a - b) }));
        const rowsOfBuilds = await upsertBuilds(
          tx,
          list.map((e) => ({ inputs: e.inputs.map((i) => ({ ref: inputs[i]!.build!, submitTime: inputs[i]!.submitTime })) })),
        );
        await linkJobsToBuilds(
          tx,
          list.flatMap((e) => e.inputs.map((i) => rowIds.get(i)!)),
          list.flatMap((e, bi) => e.inputs.map(() => rowsOfBuilds[bi]!.id)),
        );
        const groups = new Map<
          string,
          {
            ids: number[];
            /** inputs of the group, in order */
            members: number[];
            first: number;
            instanceId: number;
            deviceType: string;
            build: { id: number; orderKey: string; tree: string; branch: string };
          }
        >();
        list.forEach((e, bi) => {
          const b = rowsOfBuilds[bi]!;
          for (const i of e.inputs) {
            const input = inputs[i]!;
            out[i]!.buildId = b.id;
            // Only a Complete job's cases are test results; Incomplete/Infrastructure jobs count against the lab.
            if (input.deferBuildStatus || input.state !== "Finished" || input.health !== "Complete" || input.errorType === "Infrastructure")
              continue;
            const k = `${b.id}/${input.instanceId}/${input.deviceType}`;
            const g = groups.get(k);
            if (g) {
              g.ids.push(rowIds.get(i)!);
              g.members.push(i);
            } else
              groups.set(k, {
                ids: [rowIds.get(i)!],
                members: [i],
                first: i,
                instanceId: input.instanceId,
                deviceType: input.deviceType,
                build: { id: b.id, orderKey: b.orderKey, tree: e.ref.tree, branch: e.ref.branch },
              });
          }
        });
        // one set-based recomputation for all groups was tried (2026-12-02): fewer statements, but
        // slower through the HTTP bench than these per-group ones, whose constants give better plans
        for (const g of groups.values()) {
          const counts = freshJobsCounts(g.members.map((i) => ({ input: inputs[i]!, rowId: rowIds.get(i)!, result: out[i]! })));
          const r = counts
            ? await addNewJobsToStatuses(tx, { instanceId: g.instanceId, deviceType: g.deviceType }, g.build, counts)
            : await recomputeForJobs(tx, { ids: g.ids, instanceId: g.instanceId, deviceType: g.deviceType }, g.build);
          out[g.first]!.transitions = r.transitions;
        }
      }
      return out;
      // Waiting for the branch lock counts against the timeout: several labs may report one build at once.
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/**
 * What Complete jobs add to their build's statuses when every one of them is new to it: created by
 * this ingest (so in no status yet) with each of its cases inserted now (none was stored before).
 * @returns the counts to add (see newStatusCounts), or null when some job does not qualify (its
 *   statuses are then recomputed from the stored cases)
 */
function freshJobsCounts(jobs: { input: TIngestJobInput; rowId: number; result: TIngestJobResult }[]): TNewStatusCounts[] | null {
  const fresh: { id: number; cases: TIngestJobInput["cases"] }[] = [];
  for (const { input, rowId, result } of jobs) {
    if (!result.created) return null;
    // the insert keeps the first case of a remote case id: so does this count
    const seen = new Set<string>();
    const cases = input.cases.filter((c) => !seen.has(c.remoteCaseId) && seen.add(c.remoteCaseId));
    if (cases.length !== result.casesInserted) return null;
    fresh.push({ id: rowId, cases });
  }
  return newStatusCounts(fresh);
}

/**
 * Inserts the job rows that are new and updates those `inputs` are not behind, locking every row
 * (`FOR UPDATE`, in (lab, remote id) order), in three statements whatever the number of jobs.
 * Known values are kept when an input lacks them (start/end time, device, error type, failure
 * comment: LAVA sends "None" times in later callbacks). `inputs` hold at most one input per job.
 * @returns per input (same order): the row id, and `stale` when the stored state rank is above the
 *   input's (nothing changed)
 */
async function upsertJobRows(
  tx: FrontendTx,
  inputs: TIngestJobInput[],
): Promise<{ rowId: number; created: boolean; updated: boolean; stale: boolean }[]> {
  const now = new Date();
  const record = (input: TIngestJobInput, id: number | null) => ({
    id,
    instance_id: input.instanceId,
    remote_id: input.remoteId,
    name: input.name,
    device_type: input.deviceType,
    submitter: input.submitter,
    state: input.state,
    health: input.health,
    state_rank: input.stateRank,
    priority: input.priority,
    metadata: input.metadata,
    actual_device: input.actualDevice,
    submit_time: input.submitTime.toISOString(),
    start_time: input.startTime?.toISOString() ?? null,
    end_time: input.endTime?.toISOString() ?? null,
    error_type: input.errorType,
    failure_comment: input.failureComment,
    definition: input.definition,
    health_check: input.healthCheck,
    visibility: input.visibility?.kind ?? "public",
    visibility_groups: input.visibility?.kind === "group" ? input.visibility.groups : [],
    last_callback_at: input.receivedAt.toISOString(),
  });
  // timestamps are stored as UTC without time zone (Prisma's DateTime)
  const values = (records: ReturnType<typeof record>[]) => Prisma.sql`jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS v(id int,
    instance_id int, remote_id int, name text, device_type text, submitter text, state text, health text, state_rank int, priority int,
    metadata jsonb, actual_device text, submit_time timestamptz, start_time timestamptz, end_time timestamptz, error_type text,
    failure_comment text, definition text, health_check boolean, visibility text, visibility_groups jsonb, last_callback_at timestamptz)`;
  const created = await tx.$queryRaw<{ id: number; instance_id: number; remote_id: number }[]>`
    INSERT INTO federated_job (instance_id, remote_id, name, device_type, submitter, state, health, state_rank, priority, metadata,
      actual_device, submit_time, start_time, end_time, error_type, failure_comment, definition, health_check, visibility,
      visibility_groups, last_callback_at, updated_at)
    SELECT v.instance_id, v.remote_id, v.name, v.device_type, v.submitter, v.state, v.health, v.state_rank, v.priority, v.metadata,
      v.actual_device, v.submit_time AT TIME ZONE 'UTC', v.start_time AT TIME ZONE 'UTC', v.end_time AT TIME ZONE 'UTC', v.error_type,
      v.failure_comment, v.definition, v.health_check, v.visibility, ARRAY(SELECT jsonb_array_elements_text(v.visibility_groups)),
      v.last_callback_at AT TIME ZONE 'UTC', (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC')
    FROM ${values(inputs.map((input) => record(input, null)))}
    ORDER BY v.instance_id, v.remote_id
    ON CONFLICT (instance_id, remote_id) DO NOTHING
    RETURNING id, instance_id, remote_id`;
  const key = (instanceId: number, remoteId: number) => `${instanceId}/${remoteId}`;
  const createdKeys = new Set(created.map((r) => key(r.instance_id, r.remote_id)));
  const locked = await tx.$queryRaw<{ id: number; instance_id: number; remote_id: number; state_rank: number }[]>`
    SELECT j.id, j.instance_id, j.remote_id, j.state_rank FROM federated_job j
    JOIN unnest(${inputs.map((i) => i.instanceId)}::int[], ${inputs.map((i) => i.remoteId)}::int[]) AS k(instance_id, remote_id)
      ON j.instance_id = k.instance_id AND j.remote_id = k.remote_id
    ORDER BY j.instance_id, j.remote_id
    FOR UPDATE OF j`;
  const byKey = new Map(locked.map((r) => [key(r.instance_id, r.remote_id), r]));
  const out = inputs.map((input) => {
    const row = byKey.get(key(input.instanceId, input.remoteId));
    if (!row) throw new Error(`federated job ${input.instanceId}/${input.remoteId} vanished during ingest`);
    const isNew = createdKeys.has(key(input.instanceId, input.remoteId));
    const stale = !isNew && input.stateRank < row.state_rank;
    return { rowId: row.id, created: isNew, updated: !isNew && !stale, stale };
  });
  const toUpdate = out.map((o, i) => (o.updated ? i : -1)).filter((i) => i >= 0);
  if (toUpdate.length) {
    // a later callback may lack what an earlier one had (LAVA sends "None" times): keep them
    await tx.$executeRaw`
      UPDATE federated_job j SET name = v.name, device_type = v.device_type, submitter = v.submitter, state = v.state, health = v.health,
        state_rank = v.state_rank, priority = v.priority, metadata = v.metadata, submit_time = v.submit_time AT TIME ZONE 'UTC',
        definition = v.definition, health_check = v.health_check, visibility = v.visibility,
        visibility_groups = ARRAY(SELECT jsonb_array_elements_text(v.visibility_groups)), last_callback_at = v.last_callback_at AT TIME ZONE 'UTC',
        start_time = COALESCE(v.start_time AT TIME ZONE 'UTC', j.start_time), end_time = COALESCE(v.end_time AT TIME ZONE 'UTC', j.end_time),
        actual_device = COALESCE(NULLIF(v.actual_device, ''), j.actual_device), error_type = COALESCE(NULLIF(v.error_type, ''), j.error_type),
        failure_comment = COALESCE(NULLIF(v.failure_comment, ''), j.failure_comment),
        updated_at = (${now.toISOString()}::timestamptz AT TIME ZONE 'UTC')
      FROM ${values(toUpdate.map((i) => record(inputs[i]!, out[i]!.rowId)))}
      WHERE j.id = v.id`;
  }
  return out;
}

/**
 * Inserts the test cases of several federated jobs in ONE statement (as {@link insertFederatedCases}
 * for each: ON CONFLICT DO NOTHING, only rows really inserted added to each job's rollup). The
 * caller's transaction holds the jobs' row locks.
 * @returns cases inserted per job row id (jobs with none inserted absent)
 */
async function insertManyJobsCases(
  tx: FrontendTx,
  jobs: { instanceId: number; jobRowId: number; remoteId: number; cases: TIngestJobInput["cases"] }[],
): Promise<Map<number, number>> {
  const all = jobs.flatMap((j) => j.cases.map((c) => ({ j, c })));
  if (!all.length) return new Map();
  const r = await tx.$queryRaw<{ job_id: number; n: number }[]>`
  WITH ins AS (
    INSERT INTO federated_test_case (instance_id, job_id, remote_job_id, remote_case_id, suite, name, result, measurement, units, test_set, log_start_line)
    SELECT c.instance_id, c.job_id, c.remote_job_id, c.remote_case_id, c.suite, c.name, c.result, c.measurement::numeric, c.units, c.test_set, c.log_start_line
    FROM unnest(${all.map((x) => x.j.instanceId)}::int[], ${all.map((x) => x.j.jobRowId)}::int[], ${all.map((x) => x.j.remoteId)}::int[],
                ${all.map((x) => x.c.remoteCaseId)}::text[], ${all.map((x) => x.c.suite)}::text[], ${all.map((x) => x.c.name)}::text[],
                ${all.map((x) => x.c.result)}::text[], ${all.map((x) => x.c.measurement)}::text[], ${all.map((x) => x.c.units)}::text[],
                ${all.map((x) => x.c.testSet)}::text[], ${all.map((x) => x.c.logStartLine ?? null)}::int[])
         AS c(instance_id, job_id, remote_job_id, remote_case_id, suite, name, result, measurement, units, test_set, log_start_line)
    ON CONFLICT (instance_id, remote_job_id, remote_case_id) DO NOTHING
    RETURNING job_id, suite, result
  ), counts AS (
    SELECT job_id, count(*)::int AS n,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'pass')::int AS pass,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'fail')::int AS fail,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'skip')::int AS skip,
           count(*) FILTER (WHERE suite <> 'lava' AND result NOT IN ('pass', 'fail', 'skip'))::int AS unknown
    FROM ins GROUP BY job_id
  ), rollup AS (
    UPDATE federated_job j SET pass_count = j.pass_count + counts.pass, fail_count = j.fail_count + counts.fail,
           skip_count = j.skip_count + counts.skip, unknown_count = j.unknown_count + counts.unknown
    FROM counts WHERE j.id = counts.job_id
  )
  SELECT job_id, n FROM counts`;
  return new Map(r.map((x) => [x.job_id, x.n]));
}

/**
 * Inserts test cases of one federated job in ONE statement (from arrays; ON CONFLICT DO NOTHING on
 * (instance, remote job, remote case id) keeps re-deliveries exactly-once) and adds only the rows
 * really inserted to the job's result rollup. Runs inside the caller's transaction, which holds the
 * job row's lock.
 * @returns the number of cases inserted
 */
export async function insertFederatedCases(
  tx: Prisma.TransactionClient,
  instanceId: number,
  jobRowId: number,
  remoteId: number,
  cs: TIngestJobInput["cases"],
): Promise<number> {
  if (!cs.length) return 0;
  const r = await tx.$queryRaw<{ n: number }[]>`
  WITH ins AS (
    INSERT INTO federated_test_case (instance_id, job_id, remote_job_id, remote_case_id, suite, name, result, measurement, units, test_set, log_start_line)
    SELECT ${instanceId}, ${jobRowId}, ${remoteId}, c.remote_case_id, c.suite, c.name, c.result, c.measurement::numeric, c.units, c.test_set, c.log_start_line
    FROM unnest(${cs.map((c) => c.remoteCaseId)}::text[], ${cs.map((c) => c.suite)}::text[], ${cs.map((c) => c.name)}::text[],
                ${cs.map((c) => c.result)}::text[], ${cs.map((c) => c.measurement)}::text[], ${cs.map((c) => c.units)}::text[],
                ${cs.map((c) => c.testSet)}::text[], ${cs.map((c) => c.logStartLine ?? null)}::int[])
         AS c(remote_case_id, suite, name, result, measurement, units, test_set, log_start_line)
    ON CONFLICT (instance_id, remote_job_id, remote_case_id) DO NOTHING
    RETURNING suite, result
  ), counts AS (
    SELECT count(*)::int AS n,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'pass')::int AS pass,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'fail')::int AS fail,
           count(*) FILTER (WHERE suite <> 'lava' AND result = 'skip')::int AS skip,
           count(*) FILTER (WHERE suite <> 'lava' AND result NOT IN ('pass', 'fail', 'skip'))::int AS unknown
    FROM ins
  ), rollup AS (
    UPDATE federated_job SET pass_count = pass_count + counts.pass, fail_count = fail_count + counts.fail,
           skip_count = skip_count + counts.skip, unknown_count = unknown_count + counts.unknown
    FROM counts WHERE id = ${jobRowId} AND counts.n > 0
  )
  SELECT n FROM counts`;
  return r[0]?.n ?? 0;
}

type JobRow = Prisma.FederatedJobGetPayload<{ include: { instance: { select: { name: true } } } }>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toJob(j: JobRow): TFederatedJob {
  return {
    lab: j.instance.name,
    id: j.remote_id,
    name: j.name,
    deviceType: j.device_type,
    submitter: j.submitter,
    state: toJobState(j.state),
    health: toJobHealth(j.health),
    priority: j.priority,
    metadata: (j.metadata && typeof j.metadata === "object" && !Array.isArray(j.metadata) ? j.metadata : {}) as Record<string, string>,
    actualDevice: j.actual_device,
    submitTime: j.submit_time.toISOString(),
    startTime: iso(j.start_time),
    endTime: iso(j.end_time),
    errorType: j.error_type,
    failureComment: j.failure_comment,
    healthCheck: j.health_check,
    updatedAt: j.updated_at.toISOString(),
  };
}

/**
 * One page of federated jobs, newest submit time first, by keyset (submit_time DESC, id DESC):
 * stable under concurrent inserts, no OFFSET scans. Only jobs `viewer` may read (null: anonymous).
 * @param limit rows per page (1–200)
 * @param cursor the previous page's `nextCursor`, or null for the first page
 */
export async function listFederatedJobs(
  db: FrontendDb,
  viewer: TViewer | null,
  filter: TJobListFilter,
  limit: number,
  cursor: TJobCursor | null,
): Promise<TJobPage> {
  const where = jobFilterSql(filter, viewer);
  const after = cursor
    ? Prisma.sql`AND (j.submit_time, j.id) < ((${cursor.submitTime}::timestamptz AT TIME ZONE 'UTC'), ${cursor.rowId})`
    : Prisma.empty;
  const ids = await db.$queryRaw<{ id: number }[]>`
    SELECT j.id FROM federated_job j JOIN instance i ON i.id = j.instance_id
    WHERE ${where} ${after}
    ORDER BY j.submit_time DESC, j.id DESC
    LIMIT ${limit + 1}`;
  const pageIds = ids.slice(0, limit).map((r) => r.id);
  const rows = await db.federatedJob.findMany({ where: { id: { in: pageIds } }, include: { instance: { select: { name: true } } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = pageIds.map((id) => byId.get(id)).filter((r): r is JobRow => !!r);
  const last = ordered[ordered.length - 1];
  return {
    results: ordered.map(toJob),
    nextCursor: ids.length > limit && last ? { submitTime: last.submit_time.toISOString(), rowId: last.id } : null,
  };
}

const emptyCounts = (): TResultCounts => ({ pass: 0, fail: 0, skip: 0, unknown: 0 });
const bump = (c: TResultCounts, result: string) => {
  if (result === "pass" || result === "fail" || result === "skip") c[result]++;
  else c.unknown++;
};

/**
 * A job with its definition and suites (cases in remote id order), or null when unknown or not
 * readable by `viewer` (the two are indistinguishable, as LAVA answers 404 for both). The job's
 * own test suites come first in the order they ran; LAVA's `lava` suite (the pipeline's actions)
 * comes last, where a kernel developer looks for it only when something broke.
 */
export async function getFederatedJob(
  db: FrontendDb,
  viewer: TViewer | null,
  lab: string,
  remoteId: number,
): Promise<TFederatedJobDetail | null> {
  const j = await db.federatedJob.findFirst({
    where: { AND: [{ remote_id: remoteId, instance: { name: lab } }, visibleJobsWhere(viewer)] },
    include: { instance: { select: { name: true } }, test_cases: { orderBy: { id: "asc" } } },
  });
  if (!j) return null;
  const suites = new Map<string, TFederatedSuite>();
  for (const c of j.test_cases) {
    let s = suites.get(c.suite);
    if (!s) suites.set(c.suite, (s = { name: c.suite, counts: emptyCounts(), cases: [] }));
    bump(s.counts, c.result);
    s.cases.push({
      id: c.remote_case_id,
      suite: c.suite,
      name: c.name,
      result: c.result,
      measurement: c.measurement === null ? null : c.measurement.toString(),
      units: c.units,
      testSet: c.test_set,
    });
  }
  const ordered = [...suites.values()].sort((a, b) => Number(a.name === "lava") - Number(b.name === "lava"));
  return { ...toJob(j), definition: j.definition, suites: ordered };
}

/**
 * Results grouped by a metadata value × lab × device type, with case counts (LAVA's own `lava`
 * suite excluded: it describes the pipeline, not the tests). Jobs lacking the key group under "".
 * Sums the per-job rollup columns kept by {@link ingestFederatedJob}, so the cost follows the number
 * of jobs matched, not the number of test cases.
 * @param limit most rows returned (largest groups by name order)
 */
export async function resultsMatrix(
  db: FrontendDb,
  viewer: TViewer | null,
  groupKey: string,
  filter: TJobListFilter,
  limit = 500,
): Promise<TResultMatrixRow[]> {
  const rows = await db.$queryRaw<
    { grp: string; lab: string; device_type: string; jobs: number; pass: number; fail: number; skip: number; unknown: number }[]
  >`
    SELECT COALESCE(j.metadata ->> ${groupKey}, '') AS grp, i.name AS lab, j.device_type,
           COUNT(*)::int AS jobs,
           SUM(j.pass_count)::int AS pass,
           SUM(j.fail_count)::int AS fail,
           SUM(j.skip_count)::int AS skip,
           SUM(j.unknown_count)::int AS unknown
    FROM federated_job j
    JOIN instance i ON i.id = j.instance_id
    WHERE ${jobFilterSql(filter, viewer)}
    GROUP BY 1, 2, 3
    ORDER BY 1 DESC, 2, 3
    LIMIT ${limit}`;
  return rows.map((r) => ({
    group: r.grp,
    lab: r.lab,
    deviceType: r.device_type,
    jobs: r.jobs,
    counts: { pass: r.pass, fail: r.fail, skip: r.skip, unknown: r.unknown },
  }));
}

/** Distinct metadata keys seen on jobs `viewer` may read (for the matrix's group-by picker), sorted. */
export async function listMetadataKeys(db: FrontendDb, viewer: TViewer | null, limit = 100): Promise<string[]> {
  const rows = await db.$queryRaw<{ k: string }[]>`
    SELECT DISTINCT jsonb_object_keys(j.metadata) AS k FROM federated_job j WHERE ${visibleJobsSql(viewer)} ORDER BY 1 LIMIT ${limit}`;
  return rows.map((r) => r.k);
}

/**
 * Results over time, per lab: by UTC day or hour of the job's end (submit when unended) over the
 * last `days` days, or by value of `groupKey` for the `limit` values with the newest jobs (KernelCI's
 * per-commit view). Sums the per-job rollup columns, like {@link resultsMatrix}. Points are in
 * bucket order, oldest first.
 */
export async function resultsTrend(
  db: FrontendDb,
  viewer: TViewer | null,
  by: { kind: "day" | "hour"; days: number } | { kind: "group"; groupKey: string; limit: number },
  filter: TJobListFilter,
): Promise<TResultTrendPoint[]> {
  type Row = { bucket: string; newest: Date; lab: string; jobs: number; pass: number; fail: number; skip: number; unknown: number };
  const sums = Prisma.sql`COUNT(*)::int AS jobs, SUM(j.pass_count)::int AS pass, SUM(j.fail_count)::int AS fail,
    SUM(j.skip_count)::int AS skip, SUM(j.unknown_count)::int AS unknown`;
  const where = jobFilterSql(filter, viewer);
  const rows =
    by.kind !== "group"
      ? await db.$queryRaw<Row[]>`
          SELECT ${by.kind === "day" ? Prisma.sql`to_char(date_trunc('day', COALESCE(j.end_time, j.submit_time)), 'YYYY-MM-DD')` : Prisma.sql`to_char(date_trunc('hour', COALESCE(j.end_time, j.submit_time)), 'YYYY-MM-DD HH24:00')`} AS bucket,
                 MAX(j.submit_time) AS newest, i.name AS lab, ${sums}
          FROM federated_job j JOIN instance i ON i.id = j.instance_id
          WHERE ${where} AND COALESCE(j.end_time, j.submit_time) >= (now() AT TIME ZONE 'UTC') - make_interval(days => ${by.days}::int)
          GROUP BY 1, 3
          ORDER BY 1, 3`
      : await db.$queryRaw<Row[]>`
          WITH g AS (
            SELECT COALESCE(j.metadata ->> ${by.groupKey}, '') AS grp, MAX(j.submit_time) AS newest
            FROM federated_job j JOIN instance i ON i.id = j.instance_id
            WHERE ${where}
            GROUP BY 1 ORDER BY 2 DESC LIMIT ${by.limit}
          )
          SELECT g.grp AS bucket, g.newest, i.name AS lab, ${sums}
          FROM federated_job j JOIN instance i ON i.id = j.instance_id
          JOIN g ON g.grp = COALESCE(j.metadata ->> ${by.groupKey}, '')
          WHERE ${where}
          GROUP BY g.grp, g.newest, i.name
          ORDER BY g.newest, g.grp, i.name`;
  return rows.map((r) => ({
    bucket: r.bucket,
    newest: r.newest.toISOString(),
    lab: r.lab,
    jobs: r.jobs,
    counts: { pass: r.pass, fail: r.fail, skip: r.skip, unknown: r.unknown },
  }));
}

/** Counts by (state, health) of the jobs `viewer` may read matching a filter, for the job list's summary. */
export async function countFederatedJobsByState(db: FrontendDb, viewer: TViewer | null, filter: TJobListFilter): Promise<TJobStateCount[]> {
  return db.$queryRaw<TJobStateCount[]>`
    SELECT j.state, j.health, COUNT(*)::int AS jobs
    FROM federated_job j JOIN instance i ON i.id = j.instance_id
    WHERE ${jobFilterSql(filter, viewer)}
    GROUP BY 1, 2 ORDER BY 1, 2`;
}

/** Lab names, and device types seen on jobs `viewer` may read (the results page's filter choices), sorted. */
export async function listJobFacets(
  db: FrontendDb,
  viewer: TViewer | null,
  limit = 200,
): Promise<{ labs: string[]; deviceTypes: string[] }> {
  const [labs, types] = await Promise.all([
    db.$queryRaw<{ v: string }[]>`SELECT name AS v FROM instance ORDER BY 1 LIMIT ${limit}`,
    db.$queryRaw<
      { v: string }[]
    >`SELECT DISTINCT j.device_type AS v FROM federated_job j WHERE ${visibleJobsSql(viewer)} ORDER BY 1 LIMIT ${limit}`,
  ]);
  return { labs: labs.map((r) => r.v), deviceTypes: types.map((r) => r.v) };
}

/** Whether `viewer` may read job `remoteId` of `lab` (false when the frontend does not know the job). */
export async function canViewFederatedJob(db: FrontendDb, viewer: TViewer | null, lab: string, remoteId: number): Promise<boolean> {
  const n = await db.federatedJob.count({ where: { AND: [{ remote_id: remoteId, instance: { name: lab } }, visibleJobsWhere(viewer)] } });
  return n > 0;
}
