import { parse, stringify } from "yaml";
import {
  INSTANCE_API_PREFIX,
  JOB_HEALTHS,
  JOB_STATES,
  LOG_LEVELS,
  ZLavaDevicesPage,
  ZLavaJob,
  ZLavaJobsPage,
  ZLavaLogRecord,
  ZLavaSubmitResponse,
  ZLavaVersion,
  ZLavaWorkersPage,
  type TFinishedJobsCursor,
  type TInstanceOverview,
  type TLavaJob,
  type TLogLevel,
  type TLogLine,
  type TNotifyPayload,
} from "@magma/protocol";
import type { TInstanceRecord } from "@magma/db/frontend";
import type { z } from "zod";
import { env } from "../../env.ts";
import { openSecret } from "../auth/secret-box.ts";
import { LabHttpError } from "./instance-client.ts";
import type { LabClient, TLabFinishedJob, TLabFinishedJobsPage, TReachableLab } from "./lab-client.ts";
import { addFrontendNotify } from "./lava-notify.ts";

/**
 * The client of an unchanged LAVA server (2023.01 or later) through its REST API v0.2
 * (`Authorization: Token <api_token>`), the {@link LabClient} of labs of kind `lava`:
 *  - submit: `POST jobs/ {definition}` → `{job_ids}` with the frontend's notify callback added to
 *    the definition (lava-notify.ts). LAVA has no idempotency key: the key rides in the callback
 *    URL (`?submission=<key>`) and each submit first looks for a job whose definition holds it, so
 *    a retried delivery whose first answer was lost returns that job instead of a second one. LAVA
 *    has no submitter header either: the job is the token user's (ingest maps it back);
 *  - overview: `devices/`, `workers/`, `system/version/` and the counts of `jobs/?state=Submitted`,
 *    `Scheduled`, `Running`;
 *  - logs: `jobs/<id>/logs/?start=&end=` (output.yaml lines; LAVA answers 404 past the end);
 *  - reconciliation: `jobs/?state=Finished&end_time__gt=…&ordering=end_time,id`, and for a job to
 *    repair `jobs/<id>/` plus `jobs/<id>/yaml/` (every test case, LAVA's export) turned into the
 *    same notify payload LAVA's callback carries.
 */

/** Name of the LAVA token whose secret LAVA sends on callbacks, when the lab names none. */
export const DEFAULT_LAVA_CALLBACK_TOKEN_NAME = "magma-callback";

/**
 * How far back a submit looks for a job created by an earlier attempt of the same delivery
 * (`jobs/?definition__contains=submission=<key>&submit_time__gt=…`), in ms.
 */
export const LAVA_IDEMPOTENCY_WINDOW_MS = 7 * 24 * 3600_000;

/** Most log lines read from LAVA in one request. */
export const LAVA_LOG_CHUNK_LINES = 5000;

/** Page size used when listing a LAVA lab's devices and workers. */
const LIST_PAGE = 500;
/** At most this many pages of devices/workers are read for the overview. */
const MAX_LIST_PAGES = 20;

/** The frontend cannot submit to a LAVA lab as configured (no public URL): retrying cannot help. */
export class LabConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabConfigError";
  }
}

/** The URL LAVA must call back for `lab`: `<MAGMA_FRONTEND_PUBLIC_URL>/api/callbacks/<lab>`. */
export function lavaCallbackUrl(lab: Pick<TInstanceRecord, "name">): string {
  const base = env().MAGMA_FRONTEND_PUBLIC_URL;
  if (!base)
    throw new LabConfigError(
      `MAGMA_FRONTEND_PUBLIC_URL is not set: the LAVA lab "${lab.name}" could not call the frontend back (set it to the URL LAVA reaches the frontend at)`,
    );
  return `${base.replace(/\/+$/, "")}/api/callbacks/${encodeURIComponent(lab.name)}`;
}

/**
 * LAVA's REST time with exactly six fraction digits and `Z`: Python's isoformat drops the fraction
 * when it is zero (`…:23Z`), which would sort after `…:23.000001Z` as text; the reconciliation
 * cursor is compared as text, so every end_time is normalised first.
 */
export function normaliseLavaTime(iso: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:?00)$/.exec(iso.trim());
  if (m) return `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}Z`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("Z", "000Z");
}

/** `2026-11-23T06:48:23.838617Z` (or with fewer digits) → microseconds since the epoch, for exact ordering. */
export function lavaTimeMicros(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso.trim());
  if (!m) return Date.parse(iso) * 1000;
  const whole = Date.parse(`${m[1]}${m[3] ?? "Z"}`);
  return whole * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}

const stateInt = (s: string) => Math.max(0, (JOB_STATES as readonly string[]).indexOf(s));
const healthInt = (h: string) => Math.max(0, (JOB_HEALTHS as readonly string[]).indexOf(h));
/** LAVA's legacy `status` (TestJob.STATUS_*: Submitted 0, Running 1, Complete 2, Incomplete 3, Canceled 4, Canceling 5). */
function legacyStatus(job: TLavaJob): { status: number; status_string: string } {
  if (job.state === "Finished") {
    const n = { Complete: 2, Incomplete: 3, Canceled: 4, Unknown: 3 }[job.health];
    return { status: n, status_string: job.health === "Unknown" ? "incomplete" : job.health.toLowerCase() };
  }
  if (job.state === "Canceling") return { status: 5, status_string: "canceling" };
  if (job.state === "Running") return { status: 1, status_string: "running" };
  return { status: 0, status_string: "submitted" };
}

/**
 * A LAVA REST job plus its results export as the notify payload LAVA's own callback would carry
 * (`TestJob.create_job_data`, dataset `results`): `results` is `{suite: YAML list}` grouped from
 * `jobs/<id>/yaml/`; times keep REST's ISO form (the ingest reads both).
 */
export function lavaJobAsPayload(job: TLavaJob, resultsYaml: string): TNotifyPayload {
  const cases: unknown = resultsYaml.trim() ? parse(resultsYaml, { maxAliasCount: 100 }) : [];
  const bySuite = new Map<string, unknown[]>();
  for (const c of Array.isArray(cases) ? cases : []) {
    const suite = c && typeof c === "object" && typeof (c as { suite?: unknown }).suite === "string" ? (c as { suite: string }).suite : "";
    if (!bySuite.has(suite)) bySuite.set(suite, []);
    bySuite.get(suite)!.push(c);
  }
  return {
    id: job.id,
    ...legacyStatus(job),
    state: stateInt(job.state),
    state_string: job.state,
    health: healthInt(job.health),
    health_string: job.health,
    submit_time: job.submit_time ?? "None",
    start_time: job.start_time ?? "None",
    end_time: job.end_time ?? "None",
    submitter_username: job.submitter,
    failure_comment: job.failure_comment,
    priority: job.priority,
    description: job.description ?? "",
    actual_device_id: job.actual_device,
    definition: job.definition,
    metadata: [],
    results: Object.fromEntries([...bySuite].map(([suite, list]) => [suite, stringify(list)])),
  };
}

/** One output.yaml line (`- {"dt": …, "lvl": …, "msg": …}`) → a log line, or null when unreadable. */
export function parseLavaLogLine(text: string, line: number): TLogLine | null {
  const body = text.replace(/^-\s*/, "");
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    try {
      raw = parse(body, { maxAliasCount: 10 });
    } catch {
      return null;
    }
  }
  const r = ZLavaLogRecord.safeParse(raw);
  if (!r.success) return null;
  const lvl: TLogLevel = (LOG_LEVELS as readonly string[]).includes(r.data.lvl) ? (r.data.lvl as TLogLevel) : "debug";
  const msg = r.data.msg;
  return { line, dt: r.data.dt, lvl, msg: typeof msg === "number" || msg === null ? String(msg) : msg };
}

/** The LAVA implementation of {@link LabClient} for one lab of kind `lava`. */
export function lavaLabClient(lab: TReachableLab): LabClient {
  const base = `${lab.url}${INSTANCE_API_PREFIX}`;
  const headers = (accept: string): Record<string, string> => ({ authorization: `Token ${openSecret(lab.apiToken)}`, accept });

  async function fail(res: Response): Promise<never> {
    const text = await res.text().catch(() => "");
    let message = text.slice(0, 2000);
    try {
      const b = JSON.parse(text) as { message?: unknown; detail?: unknown };
      if (typeof b.message === "string") message = b.message;
      else if (typeof b.detail === "string") message = b.detail;
    } catch {
      // LAVA's HTML error page: keep the text
    }
    throw new LabHttpError(lab.name, res.status, message || `HTTP ${res.status}`);
  }
  async function get(path: string, timeoutMs: number, accept = "application/json"): Promise<Response> {
    const res = await fetch(`${base}${path}`, { headers: headers(accept), signal: AbortSignal.timeout(timeoutMs), cache: "no-store" });
    return res.ok ? res : fail(res);
  }
  async function getJson<T extends z.ZodType>(path: string, schema: T, timeoutMs: number): Promise<z.infer<T>> {
    return schema.parse(await (await get(path, timeoutMs)).json());
  }
  async function listAll<T extends z.ZodType<{ results: unknown[]; next: string | null }>>(
    path: string,
    schema: T,
    timeoutMs: number,
  ): Promise<z.infer<T>["results"]> {
    const out: unknown[] = [];
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const p = await getJson(`${path}?limit=${LIST_PAGE}&offset=${page * LIST_PAGE}`, schema, timeoutMs);
      out.push(...p.results);
      if (!p.next || p.results.length === 0) break;
    }
    return out as z.infer<T>["results"];
  }
  const countJobs = async (state: string, timeoutMs: number) =>
    (await getJson(`/jobs/?state=${state}&limit=1`, ZLavaJobsPage, timeoutMs)).count;

  return {
    lab,

    async overview(timeoutMs) {
      const [version, devices, workers, submitted, scheduled, running] = await Promise.all([
        getJson("/system/version/", ZLavaVersion, timeoutMs),
        listAll("/devices/", ZLavaDevicesPage, timeoutMs),
        listAll("/workers/", ZLavaWorkersPage, timeoutMs),
        countJobs("Submitted", timeoutMs),
        countJobs("Scheduled", timeoutMs),
        countJobs("Running", timeoutMs),
      ]);
      const o: TInstanceOverview = {
        name: lab.name,
        version: `LAVA ${version.version}`,
        workers: workers.map((w) => ({ hostname: w.hostname, state: w.state, health: w.health, last_ping: w.last_ping })),
        devices: devices.map((d) => ({
          hostname: d.hostname,
          device_type: d.device_type,
          state: d.state,
          health: d.health,
          worker_host: d.worker_host,
          current_job: null,
        })),
        device_types: [...new Set(devices.filter((d) => d.health !== "Retired").map((d) => d.device_type))].sort(),
        queue: { submitted, scheduled, running },
      };
      return o;
    },

    async submit(definition, { idempotencyKey, timeoutMs }) {
      const tokenName = lab.callbackTokenName ?? DEFAULT_LAVA_CALLBACK_TOKEN_NAME;
      // the key rides in the callback URL, so the definition LAVA stores names it and a retry can find the job
      const marker = `submission=${encodeURIComponent(idempotencyKey)}`;
      const withNotify = addFrontendNotify(definition, { url: `${lavaCallbackUrl(lab)}?${marker}`, tokenName });
      const since = new Date(Date.now() - LAVA_IDEMPOTENCY_WINDOW_MS).toISOString();
      const earlier = await getJson(
        `/jobs/?${new URLSearchParams({ definition__contains: marker, submit_time__gt: since, limit: "1" })}`,
        ZLavaJobsPage,
        timeoutMs,
      );
      if (earlier.results[0]) return [earlier.results[0].id];
      const res = await fetch(`${base}/jobs/`, {
        method: "POST",
        headers: { ...headers("application/json"), "content-type": "application/json" },
        body: JSON.stringify({ definition: withNotify }),
        signal: AbortSignal.timeout(timeoutMs),
        cache: "no-store",
      });
      if (!res.ok) return fail(res);
      const body = ZLavaSubmitResponse.parse(await res.json());
      if (!body.job_ids.length) throw new Error(`LAVA lab ${lab.name} answered the submission without a job id`);
      return body.job_ids;
    },

    async jobLog(jobId, start, timeoutMs) {
      const res = await fetch(`${base}/jobs/${jobId}/logs/?start=${start}&end=${start + LAVA_LOG_CHUNK_LINES}`, {
        headers: headers("application/yaml"),
        signal: AbortSignal.timeout(timeoutMs),
        cache: "no-store",
      });
      // LAVA answers 404 for an empty range: past the end of a log that exists
      if (res.status === 404 && start > 0) return [];
      if (!res.ok) return fail(res);
      const lines: TLogLine[] = [];
      (await res.text()).split("\n").forEach((text, i) => {
        if (!text.trim()) return;
        const l = parseLavaLogLine(text, start + i);
        if (l) lines.push(l);
      });
      return lines;
    },

    async cancel(jobId, { timeoutMs }) {
      // LAVA's REST cancel is a GET (lava_rest_app TestJobViewSet.cancel)
      await (await get(`/jobs/${jobId}/cancel/`, timeoutMs)).text();
    },

    async openLogStream() {
      throw new LabHttpError(lab.name, 501, "LAVA labs have no log stream: the log is read by polling");
    },

    async finishedJobs(after: TFinishedJobsCursor | null, limit: number, timeoutMs: number): Promise<TLabFinishedJobsPage> {
      const q = new URLSearchParams({ state: "Finished", ordering: "end_time,id", limit: String(limit) });
      // end_time__gt is strict and LAVA keeps microseconds: ask from 1 ms before and drop what is not after the cursor
      if (after) q.set("end_time__gt", new Date(Math.floor(lavaTimeMicros(after.since) / 1000) - 1).toISOString());
      const page = await getJson(`/jobs/?${q}`, ZLavaJobsPage, timeoutMs);
      const cursor = after ? { t: lavaTimeMicros(after.since), id: after.after_id } : null;
      const results: TLabFinishedJob[] = [];
      for (const j of page.results) {
        if (!j.end_time) continue;
        const t = lavaTimeMicros(j.end_time);
        if (cursor && (t < cursor.t || (t === cursor.t && j.id <= cursor.id))) continue;
        results.push({ id: j.id, end_time: normaliseLavaTime(j.end_time), health: j.health, test_case_count: null });
      }
      const last = page.results.at(-1);
      const next = last?.end_time && page.results.length >= limit ? { since: normaliseLavaTime(last.end_time), after_id: last.id } : null;
      return { results, next };
    },

    async federationPayload(jobId, timeoutMs) {
      const [job, results] = await Promise.all([
        getJson(`/jobs/${jobId}/`, ZLavaJob, timeoutMs),
        fetch(`${base}/jobs/${jobId}/yaml/`, {
          headers: headers("application/yaml"),
          signal: AbortSignal.timeout(timeoutMs),
          cache: "no-store",
        }).then((res) => (res.status === 404 ? "" : res.ok ? res.text() : fail(res))),
      ]);
      return lavaJobAsPayload(job, results);
    },
  };
}
