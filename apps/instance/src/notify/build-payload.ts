import { stringify } from "yaml";
import { jobHealthInt, jobStateInt, legacyStatus, redactDefinition, type TNotifyDataset, type TNotifyPayload } from "@magma/protocol";
import {
  countCases,
  findJob,
  listCasesAfter,
  listCasesById,
  readAllLogLines,
  wireVisibility,
  type InstanceDb,
  type InstanceTx,
} from "@magma/db/instance";
import { formatLogLine, pyDatetime } from "./format.ts";
import { toLavaTestCaseExport } from "../results/test-case-dto.ts";

/** The notify dataset (protocol ZNotifyDataset). */
export type TDataset = TNotifyDataset;

export interface BuildPayloadOptions {
  db: InstanceDb | InstanceTx;
  jobId: number;
  dataset: TDataset;
  instanceName: string;
  /**
   * The federation callback's bound (FEDERATION_INLINE_CASES): with it, `results` is sent only when
   * the job has at most this many cases, and `magma.transfer` gives the job's case and log line
   * totals so the receiver pulls the rest in pages. Without it (job notify callbacks), LAVA's rules.
   */
  inlineCasesLimit?: number;
  /**
   * A live-results push (issue 13): `results` carries only the job's cases with an id above
   * `afterId`, at most `limit` of them in id order, and `magma.live_results` says which ones
   * (`{after, through}`; absent when there are none). No `magma.transfer`. Excludes `inlineCasesLimit`.
   */
  liveCases?: { afterId: number; limit: number };
}

/**
 * Builds a notify callback body, LAVA 2025+'s `TestJob.create_job_data` (protocol ZNotifyPayload): the
 * 19 minimal keys (`submitter_email` and `health_check` included; no `token`: it travels in its
 * header only), `log` for dataset logs|all (the whole job log as output.yaml text), `results` for
 * results|all ({suite: YAML list of LAVA test-case exports}), plus the `magma` block
 * (instance, device type, error type, health check, visibility).
 * `definition` has its secrets replaced by `[MASKED]` (`redactDefinition`), unlike LAVA.
 * Reads the job as it is now, so a Finished callback built at delivery time carries every result.
 * With `inlineCasesLimit` (the federation callback) a job with more cases than that carries none and
 * says so in `magma.transfer` (issue 13: huge jobs cross the federation in pages, never whole).
 * With `liveCases` it carries only the cases recorded after a cursor (a live-results push).
 * Differences from LAVA 2023.01 (fixes): `end_time`/`start_time` are the real times (LAVA sends the
 * pre-save "None"), `metadata` is the job's `metadata:` mapping (LAVA sends `[]`).
 * @throws Error when the job does not exist (the outbox row is then retried, and logged)
 */
export async function buildNotifyPayload({
  db,
  jobId,
  dataset,
  instanceName,
  inlineCasesLimit,
  liveCases,
}: BuildPayloadOptions): Promise<TNotifyPayload> {
  const job = await findJob(db, jobId);
  if (!job) throw new Error(`buildNotifyPayload: job ${jobId} does not exist`);
  const submitter = await db.user.findUnique({ where: { username: job.submitter }, select: { email: true } });
  const { status, statusString } = legacyStatus(job.state, job.health);
  const payload: TNotifyPayload = {
    id: job.id,
    status,
    status_string: statusString,
    state: jobStateInt(job.state),
    state_string: job.state,
    health: jobHealthInt(job.health),
    health_string: job.health,
    submit_time: pyDatetime(job.submitTime),
    start_time: pyDatetime(job.startTime),
    end_time: pyDatetime(job.endTime),
    submitter_username: job.submitter,
    submitter_email: submitter?.email ?? "",
    failure_comment: job.failureComment,
    priority: job.priority,
    description: job.description,
    actual_device_id: job.actualDevice,
    // the receiver gets its own token below; the definition's secrets stay on the instance
    definition: redactDefinition(job.definition),
    metadata: job.metadata,
    health_check: job.healthCheck,
  };
  if (dataset === "logs" || dataset === "all") {
    const lines = await readAllLogLines(db, jobId);
    payload.log = lines.map((l) => formatLogLine(l) + "\n").join("");
  }
  const caseTotal = inlineCasesLimit !== undefined ? await countCases(db, jobId) : 0;
  const resultsInline = inlineCasesLimit === undefined || caseTotal <= inlineCasesLimit;
  let live: { after: number; through: number } | undefined;
  if ((dataset === "results" || dataset === "all") && resultsInline) {
    const cases = liveCases ? await listCasesAfter(db, jobId, liveCases.afterId, liveCases.limit) : await listCasesById(db, jobId);
    const last = cases.at(-1);
    if (liveCases && last) live = { after: liveCases.afterId, through: last.id };
    const bySuite = new Map<string, Record<string, unknown>[]>();
    for (const c of cases) {
      const list = bySuite.get(c.suite) ?? [];
      list.push(toLavaTestCaseExport(c));
      bySuite.set(c.suite, list);
    }
    payload.results = Object.fromEntries(
      [...bySuite].map(([suite, list]) => [suite, stringify(list, { singleQuote: true, lineWidth: 0 })]),
    );
  }
  payload.magma = {
    instance: instanceName,
    device_type: job.requestedDeviceType,
    error_type: job.errorType,
    health_check: job.healthCheck,
    visibility: wireVisibility(job.visibility),
    ...(inlineCasesLimit !== undefined
      ? { transfer: { test_cases: caseTotal, log_lines: job.logLineCount, results_inline: resultsInline } }
      : {}),
    ...(live ? { live_results: live } : {}),
  };
  return payload;
}

/**
 * Encodes a payload as python-requests does for `data=dict` (LAVA's `content-type: urlencoded`):
 * null values are dropped, lists repeat the key, mappings send their keys (so `results` becomes the
 * suite names — lossy, exactly like LAVA).
 */
export function urlencodePayload(p: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => form.append(k, String(x)));
    else if (typeof v === "object") Object.keys(v).forEach((x) => form.append(k, x));
    else form.append(k, String(v));
  }
  return form.toString();
}
