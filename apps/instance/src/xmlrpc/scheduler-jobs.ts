import {
  JOB_HEALTHS,
  JOB_STATES,
  parseJobDefinition,
  redactDefinition,
  type TDefinitionError,
  type TJobHealth,
  type TJobState,
} from "@magma/protocol";
import { listJobBriefs } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { cancelJob } from "../jobs/cancel-job.ts";
import { getVisibleJob, JobNotFound } from "../jobs/get-job.ts";
import { listJobs } from "../jobs/list-jobs.ts";
import { resubmitJob } from "../jobs/resubmit-job.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { readJobLogChunk } from "../logs/job-log.ts";
import { formatLogLine } from "../notify/format.ts";
import { jobIdArg, optBool, optInt, optStr, requireRpcUser, RpcFault, str, type RpcCall, type RpcMethods } from "./rpc.ts";
import type { RpcValue } from "./serialize.ts";

/** LAVA's `get_visibility_display()`: Public / Personal / Group. */
export function visibilityDisplay(v: string): string {
  return v === "public" ? "Public" : v === "personal" ? "Personal" : "Group";
}

/**
 * Runs a service on the job id parameter `raw`, turning "no such job, or not visible" into LAVA's
 * fault. @throws RpcFault 404 `Job '<raw>' was not found.` (a bad id, an unknown or an invisible
 * job: no existence leak); anything else `fn` throws passes through
 */
export async function rpcJob<T>(raw: unknown, fn: (jobId: number) => Promise<T>): Promise<T> {
  const id = jobIdArg([raw]);
  try {
    return await fn(id);
  } catch (e) {
    if (e instanceof JobNotFound && e.jobId === id) throw new RpcFault(404, `Job '${String(raw)}' was not found.`);
    throw e;
  }
}

/** Reads a job the caller may see. @throws RpcFault 404 as {@link rpcJob} */
const visibleJob = (call: RpcCall, raw: unknown) => rpcJob(raw, (id) => getVisibleJob(call.ctx.db, id, call.user));

/** voluptuous' `str(exc.path)`: `data['actions'][1]['boot']` → `['actions', 1, 'boot']`. */
export function pythonPath(path: string): string {
  const parts = [...path.matchAll(/\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? m[2] : `'${m[1]}'`));
  return `[${parts.join(", ")}]`;
}

/** voluptuous' `str(MultipleInvalid)`: the first problem, `<msg> @ data['path']` (no path for the root). */
function firstProblem(errors: readonly TDefinitionError[]): string {
  const e = errors[0]!;
  return e.path === "data" ? e.message : `${e.message} @ ${e.path}`;
}

/** The upper-case filter names of `jobs.list` (SUBMITTED, …) → stored names (Submitted, …). @throws RpcFault 400 */
function enumArg(v: string | null, allowed: readonly string[], what: string): string[] | undefined {
  if (v === null || v === "") return undefined;
  const hit = allowed.find((a) => a.toUpperCase() === v.toUpperCase());
  if (!hit) throw new RpcFault(400, `Invalid ${what} '${v}': expected one of ${allowed.map((a) => a.toUpperCase()).join(", ")}`);
  return [hit];
}

async function submit(call: RpcCall): Promise<RpcValue> {
  const user = requireRpcUser(call);
  const text = str(call.params, 0, "definition");
  const parsed = parseJobDefinition(text);
  if (!parsed.ok) throw new RpcFault(400, `Problem with submitted job data: ${firstProblem(parsed.errors)}`);
  try {
    const r = await submitJob({ ctx: call.ctx, submitter: user, text, validated: { definition: parsed.definition, raw: parsed.raw } });
    // LAVA: a MultiNode submission returns the list of its sub ids ("N.0", "N.1", …)
    return r.subIds ?? r.jobIds[0]!;
  } catch (e) {
    // LAVA: (Device.DoesNotExist, DeviceType.DoesNotExist) → 404 with this fixed text
    if (e instanceof AppError && e.code === "INVALID_JOB_DEFINITION" && e.message.includes("@ data['device_type']")) {
      throw new RpcFault(404, "Specified device or device type not found.");
    }
    throw e;
  }
}

const HELP_SUBMIT =
  '`scheduler.jobs.submit` (`definition`)\n\nSubmit the given job data which is in LAVA job YAML format as a new job.\nReturns the new job\'s id (an integer), or for a MultiNode job the list of its sub ids ("N.0", "N.1", …). Faults: 401 anonymous; 400 `Problem with submitted job data: <problem> @ data[\'path\']`;\n404 `Specified device or device type not found.`';

/** `scheduler.jobs.*` plus the legacy `scheduler.submit_job|cancel_job|resubmit_job|job_state|job_health`. */
export const schedulerJobsMethods: RpcMethods = {
  "scheduler.jobs.submit": { help: HELP_SUBMIT, handler: submit },
  "scheduler.submit_job": { help: HELP_SUBMIT, handler: submit },

  "scheduler.jobs.validate": {
    help: "`scheduler.jobs.validate` (`definition`, `strict=False`)\n\nValidate the job definition. Returns an empty struct when valid, else `{path, msg}` of the first problem\n(path as voluptuous prints it, e.g. `['actions', 1, 'boot', 'method']`). Magma's schema is always strict.",
    // LAVA returns None for a valid job, and its XML-RPC layer sends an empty struct (seen on the wire)
    async handler(call) {
      const text = str(call.params, 0, "definition");
      const parsed = parseJobDefinition(text);
      if (parsed.ok) return {};
      const e = parsed.errors[0]!;
      return { path: e.path === "data" ? "" : pythonPath(e.path), msg: e.message };
    },
  },

  "scheduler.jobs.show": {
    help: "`scheduler.jobs.show` (`job_id`)\n\nShow job details: id, description, device, device_type, health_check, pipeline, health, state,\nsubmitter, submit_time, start_time, end_time, tags, visibility, failure_comment, error_msg, error_type (the last two as LAVA 2025+ adds them).",
    async handler(call) {
      const j = await visibleJob(call, call.params[0]);
      return {
        id: j.id,
        description: j.description,
        device: j.actualDevice,
        device_type: j.requestedDeviceType,
        health_check: j.healthCheck,
        pipeline: true,
        health: j.health,
        state: j.state,
        submitter: j.submitter,
        submit_time: j.submitTime,
        start_time: j.startTime,
        end_time: j.endTime,
        tags: j.tags,
        visibility: visibilityDisplay(j.visibility),
        failure_comment: j.failureComment,
        // LAVA 2025+: the lava.job result's error message and type (None while the job runs or passed)
        error_msg: j.failureComment,
        error_type: j.errorType,
      };
    },
  },

  "scheduler.jobs.definition": {
    help: "`scheduler.jobs.definition` (`job_id`)\n\nReturn the job definition as submitted (comments kept), secrets, image headers, passwords and notify tokens replaced by [MASKED].",
    async handler(call) {
      return redactDefinition((await visibleJob(call, call.params[0])).originalDefinition);
    },
  },

  "scheduler.jobs.list": {
    help: "`scheduler.jobs.list` (`state=None`, `health=None`, `start=0`, `limit=25`, `since=None`, `verbose=False`)\n\nList the last jobs in descending order of id; limit is clamped to 100; `since` = ended in the last N minutes.",
    async handler(call) {
      const p = call.params;
      const states = enumArg(optStr(p, 0, "state"), JOB_STATES, "state");
      const healths = enumArg(optStr(p, 1, "health"), JOB_HEALTHS, "health");
      const start = Math.max(0, optInt(p, 2, "start", 0)!);
      const limit = Math.min(100, Math.max(0, optInt(p, 3, "limit", 25)!));
      const since = optInt(p, 4, "since", 0)!;
      const verbose = optBool(p, 5, "verbose", false);
      if (limit === 0) return [];
      const endedAfter = since > 0 ? new Date(Date.now() - since * 60_000) : undefined;
      // the plain listing: rows already in LAVA's struct, no count
      if (!verbose)
        return listJobBriefs(call.ctx.db, call.user, {
          limit,
          offset: start,
          states: states as TJobState[] | undefined,
          healths: healths as TJobHealth[] | undefined,
          endedAfter,
          ordering: "-id",
        });
      const page = await listJobs(call.ctx.db, call.user, { limit, offset: start, states, healths, endedAfter }, () => "");
      return page.results.map((j) => ({
        id: j.id,
        description: j.description,
        device_type: j.requested_device_type,
        health: j.health,
        state: j.state,
        submitter: j.submitter,
        actual_device: j.actual_device,
        start_time: j.start_time ? new Date(j.start_time) : null,
        end_time: j.end_time ? new Date(j.end_time) : null,
        error_msg: j.failure_comment,
        error_type: j.error_type,
      }));
    },
  },

  "scheduler.jobs.queue": {
    help: "`scheduler.jobs.queue` (`device_types=None`, `start=0`, `limit=25`)\n\nList the Submitted jobs in descending order of id, optionally for some device types: id, description, requested_device_type, submitter.",
    async handler(call) {
      const p = call.params;
      const dts = p[0] === undefined || p[0] === null ? undefined : Array.isArray(p[0]) ? p[0].map(String) : [str(p, 0, "device_types")];
      const start = Math.max(0, optInt(p, 1, "start", 0)!);
      const limit = Math.min(100, Math.max(0, optInt(p, 2, "limit", 25)!));
      if (limit === 0) return [];
      const page = await listJobs(
        call.ctx.db,
        call.user,
        { limit, offset: start, states: ["Submitted"], requestedDeviceTypes: dts },
        () => "",
      );
      return page.results.map((j) => ({
        id: j.id,
        description: j.description,
        requested_device_type: j.requested_device_type,
        submitter: j.submitter,
      }));
    },
  },

  "scheduler.jobs.logs": {
    help: "`scheduler.jobs.logs` (`job_id`, `start=0`, `end=None`)\n\nReturn `[job_finished, Binary(output.yaml lines [start, end))]`.",
    async handler(call) {
      const start = Math.max(0, optInt(call.params, 1, "start", 0)!);
      const end = optInt(call.params, 2, "end", null);
      const { finished, lines } = await rpcJob(call.params[0], (id) => readJobLogChunk(call.ctx.db, call.user, id, start, end));
      return [finished, Buffer.from(lines.map((l) => formatLogLine(l) + "\n").join(""), "utf8")];
    },
  },

  "scheduler.jobs.cancel": { help: "`scheduler.jobs.cancel` (`job_id`)\n\nCancel the job. Returns None.", handler: cancel },
  "scheduler.cancel_job": { help: "`cancel_job` (`job_id`)\n\nCancel the job. Returns None.", handler: cancel },

  "scheduler.jobs.resubmit": {
    help: "`scheduler.jobs.resubmit` (`job_id`)\n\nResubmit the job; returns the new job's id.",
    handler: resubmit,
  },
  "scheduler.resubmit_job": { help: "`resubmit_job` (`job_id`)\n\nResubmit the job; returns the new job's id.", handler: resubmit },

  "scheduler.job_state": {
    help: "`job_state` (`job_id`)\n\nReturns `{job_id, job_state}`.",
    async handler(call) {
      const j = await visibleJob(call, call.params[0]);
      return { job_id: j.id, job_state: j.state };
    },
  },
  "scheduler.job_health": {
    help: "`job_health` (`job_id`)\n\nReturns `{job_id, job_health}`.",
    async handler(call) {
      const j = await visibleJob(call, call.params[0]);
      return { job_id: j.id, job_health: j.health };
    },
  },
};

async function cancel(call: RpcCall): Promise<RpcValue> {
  const user = requireRpcUser(call);
  await rpcJob(call.params[0], async (id) => {
    try {
      await cancelJob(call.ctx, id, user);
    } catch (e) {
      if (e instanceof AppError && e.code === "FORBIDDEN")
        throw new RpcFault(403, `Job '${id}' cannot be canceled by user '${user.username}'.`);
      throw e;
    }
  });
  return null;
}

async function resubmit(call: RpcCall): Promise<RpcValue> {
  const user = requireRpcUser(call);
  return rpcJob(call.params[0], (id) => resubmitJob(call.ctx, id, user));
}
