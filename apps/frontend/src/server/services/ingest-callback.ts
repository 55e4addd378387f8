import { CORE_SCHEMA, load as loadFast } from "js-yaml";
import { parse } from "yaml";
import {
  JOB_HEALTHS,
  JOB_STATES,
  TEST_RESULTS,
  ZNotifyTestCase,
  ZVisibility,
  buildFromMetadata,
  type TBuildKeys,
  type TCallbackQueueJob,
  type TJobHealth,
  type TJobState,
  type TNotifyPayload,
} from "@magma/protocol";
import {
  findInstanceByName,
  findSubmitterOfRemoteJob,
  ingestFederatedJob,
  openJobTransfer,
  type FrontendDb,
  type TIngestJobInput,
  type TIngestJobResult,
  type TInstanceRecord,
  type TJobVisibilityInput,
} from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { env } from "../../env.ts";
import { readLavaResultsYaml } from "./lava-results-yaml.ts";
import { plainNotifyTestCase } from "./plain-notify-test-case.ts";
import { retryElsewhere, type TRetryOutcome } from "./retry-elsewhere.ts";

/** LAVA's `str(datetime)` ("2026-11-23 06:56:30.291986+00:00"), ISO, or "None" → Date | null. */
export function parseLavaTime(s: string | null | undefined): Date | null {
  if (!s || s === "None") return null;
  const d = new Date(s.includes("T") ? s : s.replace(" ", "T"));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Job state by name (preferred) or LAVA int. */
function stateOf(p: TNotifyPayload): TJobState {
  if ((JOB_STATES as readonly string[]).includes(p.state_string)) return p.state_string as TJobState;
  return JOB_STATES[p.state] ?? "Submitted";
}
function healthOf(p: TNotifyPayload): TJobHealth {
  if ((JOB_HEALTHS as readonly string[]).includes(p.health_string)) return p.health_string as TJobHealth;
  return JOB_HEALTHS[p.health] ?? "Unknown";
}

/**
 * Order of (state, health) used for monotonic ingest: state int × 10, +1 once the health is known.
 * So Running (30) < Canceling (40) < Finished/Unknown (50) < Finished/Complete (51).
 */
export function stateRank(state: TJobState, health: TJobHealth): number {
  return JOB_STATES.indexOf(state) * 10 + (health === "Unknown" ? 0 : 1);
}

/** LAVA's `log_start_line` ('' / None / a number as text or int) → a positive int or null. */
function logLine(v: string | number | null | undefined): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : null;
}

const isNumeric = (s: string) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s.trim());

/**
 * Who may read a federated job, from the callback: `magma.visibility` (Magma labs send the
 * visibility they enforce), else the definition's `visibility:` (what a plain LAVA lab enforces),
 * else public (payloads from before visibility travelled). A value present but unreadable gives
 * "restricted": superusers only, never wider than the lab meant.
 */
export function visibilityOf(payloadVisibility: unknown, definitionVisibility: unknown): TJobVisibilityInput {
  const given = payloadVisibility !== undefined && payloadVisibility !== null ? payloadVisibility : definitionVisibility;
  if (given === undefined || given === null) return { kind: "public", groups: [] };
  const v = ZVisibility.safeParse(given);
  if (!v.success) return { kind: "restricted", groups: [] };
  return typeof v.data === "string" ? { kind: v.data, groups: [] } : { kind: "group", groups: [...new Set(v.data.group)].sort() };
}

/**
 * YAML text of a callback (a `results.<suite>` list or the job definition) → its value.
 * Fast path: js-yaml with the YAML 1.2 core schema, about 20× faster than the `yaml` library on
 * LAVA's results lists (4 ms instead of 60–90 ms for 212 cases on a shared 2-core machine, the
 * largest cost of federation ingest), taken only for text without anchors or aliases (no `&` or
 * `*` anywhere), where both libraries give the same values. Text with them, or text js-yaml
 * refuses (unknown tags such as PyYAML's `!!python/…`, several documents, syntax errors), goes to
 * the `yaml` library as before, with its alias limit (100): same values, same errors.
 * @throws the `yaml` library's error when the text is not YAML it accepts
 */
export function parseCallbackYaml(text: string): unknown {
  if (!/[&*]/.test(text)) {
    try {
      return loadFast(text, { schema: CORE_SCHEMA });
    } catch {
      /* the yaml library decides, as before */
    }
  }
  return parse(text, { maxAliasCount: 100 });
}

/** The definition's `device_type`, `metadata` and `visibility` (fallbacks for plain LAVA payloads); never throws. */
function fromDefinition(definition: string): { deviceType?: string; metadata?: Record<string, string>; visibility?: unknown } {
  try {
    const d = parseCallbackYaml(definition) as Record<string, unknown> | null;
    if (!d || typeof d !== "object") return {};
    const md = d["metadata"];
    return {
      deviceType: typeof d["device_type"] === "string" ? d["device_type"] : undefined,
      visibility: d["visibility"],
      metadata:
        md && typeof md === "object" && !Array.isArray(md)
          ? Object.fromEntries(Object.entries(md as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
          : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * One test case of LAVA's results export (a `results.<suite>` item, or an item of a paged
 * `magma/jobs/<id>/cases/` answer) as ingest input; `suite` is used when the case names none.
 * @returns the case, or the problems (field: message) when it is not a ZNotifyTestCase
 */
export function toCaseInput(item: unknown, suite: string): TIngestJobInput["cases"][number] | string {
  // the common shape checked by hand (same values), anything else by the schema, which names the field
  const fast = plainNotifyTestCase(item);
  const c = fast ? { success: true as const, data: fast } : ZNotifyTestCase.safeParse(item);
  if (!c.success) return c.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join(", ");
  const m = c.data.measurement;
  const md = c.data.metadata ?? {};
  const set = typeof md["set"] === "string" ? md["set"] : null;
  return {
    remoteCaseId: c.data.id,
    suite: c.data.suite || suite,
    name: c.data.name,
    result: (TEST_RESULTS as readonly string[]).includes(c.data.result) ? c.data.result : "unknown",
    measurement: m !== null && isNumeric(m) ? m.trim() : null,
    units: c.data.unit ?? "",
    testSet: set,
    logStartLine: logLine(c.data.log_start_line),
  };
}

/**
 * Parses each `results.<suite>` YAML list with ZNotifyTestCase. An unparsable suite or case is
 * skipped and counted (the rest of the callback is still worth keeping).
 */
export function parseResults(results: Record<string, string> | undefined): { cases: TIngestJobInput["cases"]; skipped: string[] } {
  const cases: TIngestJobInput["cases"] = [];
  const skipped: string[] = [];
  for (const [suite, text] of Object.entries(results ?? {})) {
    let list: unknown;
    try {
      // LAVA's own shape is read by the strict fast path; anything else by the YAML parsers
      list = readLavaResultsYaml(text) ?? parseCallbackYaml(text);
    } catch (e) {
      skipped.push(`${suite}: YAML error: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) {
      skipped.push(`${suite}: expected a YAML list`);
      continue;
    }
    list.forEach((item, i) => {
      const c = toCaseInput(item, suite);
      if (typeof c === "string") skipped.push(`${suite}[${i}]: ${c}`);
      else cases.push(c);
    });
  }
  return { cases, skipped };
}

export interface IngestCallbackOptions {
  db: FrontendDb;
  job: TCallbackQueueJob;
  log: Logger;
  /** Metadata keys naming the job's build; MAGMA_BUILD_METADATA_KEYS (KernelCI's keys) by default. */
  buildKeys?: TBuildKeys;
}

/** A callback checked and parsed, ready to be stored (see {@link prepareCallback}). */
export interface TPreparedCallback {
  lab: TInstanceRecord;
  payload: TNotifyPayload;
  state: TJobState;
  health: TJobHealth;
  /** The ingest input of the job and its cases. */
  input: TIngestJobInput;
  /** Test cases skipped as unparsable (logged). */
  skippedCases: number;
}

/**
 * The CPU part of a callback's ingest: finds its lab, parses the results YAML and the definition,
 * and builds the ingest input (one database read: the lab; two for a plain LAVA lab, whose
 * submitter is looked up).
 * @throws AppError NOT_FOUND when the lab is not configured (the caller makes that unrecoverable)
 */
export async function prepareCallback({ db, job, log, buildKeys }: IngestCallbackOptions): Promise<TPreparedCallback> {
  const lab = await findInstanceByName(db, job.instance);
  if (!lab) throw new AppError("NOT_FOUND", { message: `Lab "${job.instance}" is not configured` });
  const p = job.payload;
  const state = stateOf(p);
  const health = healthOf(p);
  const def = fromDefinition(p.definition);
  const metadata = !Array.isArray(p.metadata) && Object.keys(p.metadata).length ? p.metadata : (def.metadata ?? {});
  const receivedAt = parseLavaTime(job.receivedAt) ?? new Date();
  const { cases, skipped } = parseResults(p.results);
  // a LAVA lab names its own user (the frontend's token user) as submitter: use the frontend user who submitted
  const frontendSubmitter = lab.kind === "lava" ? await findSubmitterOfRemoteJob(db, lab.id, p.id) : null;
  if (skipped.length)
    log.warn({ lab: lab.name, remoteJobId: p.id, skipped: skipped.slice(0, 20) }, `skipped ${skipped.length} unparsable test case(s)`);
  const input: TIngestJobInput = {
    instanceId: lab.id,
    remoteId: p.id,
    name: p.description,
    deviceType: p.magma?.device_type ?? def.deviceType ?? "unknown",
    // a Magma lab names the real submitter (the frontend user it submitted for) in `submitter`
    submitter: frontendSubmitter ?? (typeof p["submitter"] === "string" && p["submitter"] ? p["submitter"] : p.submitter_username),
    state,
    health,
    stateRank: stateRank(state, health),
    priority: p.priority,
    metadata,
    actualDevice: p.actual_device_id,
    submitTime: parseLavaTime(p.submit_time) ?? receivedAt,
    startTime: parseLavaTime(p.start_time),
    // LAVA 2023.01 sends "None" as end_time in every Finished callback: the receipt time stands in
    endTime: parseLavaTime(p.end_time) ?? (state === "Finished" ? receivedAt : null),
    errorType: p.magma?.error_type ?? null,
    failureComment: p.failure_comment,
    definition: p.definition,
    healthCheck: p.magma?.health_check ?? false,
    // Magma labs send it as `magma.visibility` (a top-level `visibility` is read too)
    visibility: visibilityOf((p.magma as { visibility?: unknown } | undefined)?.visibility ?? p["visibility"], def.visibility),
    receivedAt,
    cases,
    build: buildFromMetadata(metadata, buildKeys ?? env().MAGMA_BUILD_METADATA_KEYS),
    // a huge job's cases come by its transfer, which recomputes the build's statuses at the end
    deferBuildStatus: p.magma?.transfer?.results_inline === false,
  };
  return { lab, payload: p, state, health, input, skippedCases: skipped.length };
}

/** What ingesting one callback did (see {@link ingestCallback}). */
export type TIngestCallbackResult = TIngestJobResult & { skippedCases: number; transfer: boolean; retry: TRetryOutcome["kind"] };

/**
 * What follows a callback's commit: a Finished callback with `magma.transfer` opens the job's
 * transfer (`transfer: true` when it still has to run); a job that a submission placed and that
 * failed with an Infrastructure error may be retried on another lab ({@link retryElsewhere}).
 */
export async function afterCallbackStored(
  db: FrontendDb,
  prepared: TPreparedCallback,
  result: TIngestJobResult,
  log: Logger,
): Promise<TIngestCallbackResult> {
  const { lab, payload: p, state, health } = prepared;
  // A Magma lab's Finished callback sizes the job (magma.transfer): the log, and the cases when too
  // many to travel inline, are pulled in bounded chunks by a transfer (transfer-job.ts)
  const t = p.magma?.transfer;
  let transfer = false;
  if (t && lab.url !== null && state === "Finished" && !result.stale && (!t.results_inline || t.log_lines > 0)) {
    const opened = await openJobTransfer(db, {
      instanceId: lab.id,
      remoteId: p.id,
      casesTotal: t.test_cases,
      logTotal: t.log_lines,
      pullCases: !t.results_inline,
    });
    transfer = opened !== null && opened.doneAt === null;
  } else if (t && lab.url === null && state === "Finished" && !result.stale && !t.results_inline) {
    // an outbound-only lab cannot be pulled from: it pushes the cases over its link in pages
    // (storeLinkCasesPage, cursor in job_transfer) and its log separately; the transfer is never queued
    await openJobTransfer(db, { instanceId: lab.id, remoteId: p.id, casesTotal: t.test_cases, logTotal: 0, pullCases: true });
  }
  // a job a submission placed that failed with Infrastructure may move to another lab (retry.infrastructure)
  const retry = await retryElsewhere({
    db,
    instanceId: lab.id,
    remoteJobId: p.id,
    state,
    health,
    errorType: p.magma?.error_type ?? null,
    timeoutMs: env().MAGMA_LAB_TIMEOUT_MS,
    log,
  });
  return { ...result, skippedCases: prepared.skippedCases, transfer, retry: retry.kind };
}

/**
 * Stores one notify callback: upserts the FederatedJob and its test cases in one transaction,
 * idempotently and monotonically (see ingestFederatedJob). When the metadata names a build (tree,
 * branch, commit), the job is linked to it and, once Complete, its tests' statuses and the branch's
 * regressions/fixes around that build are recomputed in the same transaction. A Finished callback
 * with `magma.transfer` opens the job's transfer (`transfer: true` when it still has to run). Then a
 * job that a submission placed and that failed with an Infrastructure error may be retried on another
 * lab ({@link retryElsewhere}). The callback consumer does the same for several callbacks at once
 * ({@link prepareCallback}, ingestFederatedJobs, {@link afterCallbackStored}).
 * @throws AppError NOT_FOUND when the lab is not configured (the caller makes that unrecoverable)
 */
export async function ingestCallback(o: IngestCallbackOptions): Promise<TIngestCallbackResult> {
  const prepared = await prepareCallback(o);
  const result = await ingestFederatedJob(o.db, prepared.input);
  return afterCallbackStored(o.db, prepared, result, o.log);
}
