import { randomBytes } from "node:crypto";
import {
  callbackHostAllowed,
  callbackUrlHost,
  formatDefinitionErrors,
  notifyCallbacks,
  parseJobDefinition,
  stringifySortedYaml,
  type TJobDefinition,
  type TVisibility,
} from "@magma/protocol";
import type { User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { sqlState, storedVisibility } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { federationOutboxRow } from "../notify/enqueue-callbacks.ts";
import { deviceTypeIdByName, forgetDeviceTypeId } from "../devices/device-type-ids.ts";
import { isMultinodeSubmission, submitMultinodeJob } from "./submit-multinode-job.ts";
import { submissionWriter } from "./submission-writer.ts";

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** random bytes fetched 4 KiB at a time (one CSPRNG call per ~128 tokens instead of one per token) */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolAt = 0;

/** 32 random alphanumerics, LAVA's job/worker token shape. */
export function randomToken(length = 32): string {
  if (randomPoolAt + length > randomPool.length) {
    randomPool = randomBytes(Math.max(RANDOM_POOL_BYTES, length));
    randomPoolAt = 0;
  }
  const start = randomPoolAt;
  randomPoolAt += length;
  let s = "";
  for (let i = start; i < start + length; i++) s += TOKEN_ALPHABET[randomPool[i]! % TOKEN_ALPHABET.length];
  // each byte is handed out once
  randomPool.fill(0, start, start + length);
  return s;
}

/**
 * LAVA stores the definition with keys sorted (yaml.safe_dump default); comments are in
 * original_definition. The text is the `yaml` library's `stringify(raw, {sortMapEntries: true,
 * lineWidth: 0})`, written by its faster twin {@link stringifySortedYaml} (same characters).
 */
export function normaliseDefinition(raw: Record<string, unknown>): string {
  return stringifySortedYaml(raw);
}

/**
 * Validates a job definition as LAVA's `jobs/validate/` and submit do.
 * @returns the validated definition and the raw parsed mapping
 * @throws AppError INVALID_JOB_DEFINITION with LAVA's `Job invalid: <problem> @ data['path']` message
 */
export function validateDefinition(text: string): { definition: TJobDefinition; raw: Record<string, unknown> } {
  const r = parseJobDefinition(text);
  if (!r.ok) throw new AppError("INVALID_JOB_DEFINITION", formatDefinitionErrors(r.errors));
  return { definition: r.definition, raw: r.raw };
}

/**
 * The job definition's `device:` / `worker:` pinning checked as LAVA 2025+'s `_get_requested_devices`:
 * the worker must exist, the device must exist, not be retired, be of the job's device type and (with
 * both given) be attached to that worker; a pinned device also pins its worker.
 * @returns the ids to store on the job (`requestedDeviceId`, `requestedWorkerId`; null when not pinned)
 * @throws AppError INVALID_JOB_DEFINITION naming the key (`data['device']` / `data['worker']`)
 */
export async function requestedDeviceAndWorker(
  ctx: InstanceContext,
  definition: TJobDefinition,
  deviceTypeId: number,
): Promise<{ requestedDeviceId: number | null; requestedWorkerId: number | null }> {
  const bad = (message: string, key: string) => new AppError("INVALID_JOB_DEFINITION", `Job invalid: ${message} @ data['${key}']`);
  let workerId: number | null = null;
  if (definition.worker !== undefined) {
    const worker = await ctx.db.worker.findUnique({ where: { hostname: definition.worker }, select: { id: true } });
    if (!worker) throw bad(`Worker '${definition.worker}' does not exist.`, "worker");
    workerId = worker.id;
  }
  if (definition.device === undefined) return { requestedDeviceId: null, requestedWorkerId: workerId };
  const device = await ctx.db.device.findUnique({
    where: { hostname: definition.device },
    select: { id: true, health: true, workerId: true, deviceTypeId: true, worker: { select: { hostname: true } } },
  });
  if (!device) throw bad(`Device '${definition.device}' does not exist.`, "device");
  if (device.deviceTypeId !== deviceTypeId)
    throw bad(`Device '${definition.device}' is not of type '${definition.device_type}'.`, "device");
  if (device.health === "Retired") throw bad(`Device '${definition.device}' is retired.`, "device");
  if (workerId !== null && device.workerId !== workerId)
    throw bad(`Device '${definition.device}' is not attached to worker '${definition.worker}'.`, "device");
  return { requestedDeviceId: device.id, requestedWorkerId: workerId ?? device.workerId ?? null };
}

/**
 * Refuses notify callbacks to hosts outside MAGMA_CALLBACK_ALLOWED_HOSTS (LAVA 2025+'s
 * CALLBACK_ALLOWED_HOSTS, which LAVA checks only when sending; Magma also refuses at submission so
 * the submitter learns it at once). No patterns = every host allowed.
 * @throws AppError INVALID_JOB_DEFINITION naming the callback's `url`
 */
export function checkCallbackHosts(definition: TJobDefinition, patterns: readonly string[]): void {
  if (!patterns.length || !definition.notify) return;
  const legacy = definition.notify.callback ? 1 : 0;
  notifyCallbacks(definition.notify).forEach((cb, i) => {
    const path = legacy && i === 0 ? "data['notify']['callback']['url']" : `data['notify']['callbacks'][${i - legacy}]['url']`;
    const host = callbackUrlHost(cb.url);
    if (host === undefined)
      throw new AppError("INVALID_JOB_DEFINITION", `Job invalid: callback url '${cb.url}' is not an http(s) URL @ ${path}`);
    if (!callbackHostAllowed(host, patterns))
      throw new AppError(
        "INVALID_JOB_DEFINITION",
        `Job invalid: callback URL host '${host}' is not in CALLBACK_ALLOWED_HOSTS (MAGMA_CALLBACK_ALLOWED_HOSTS: ${patterns.join(", ")}) @ ${path}`,
      );
  });
}

/**
 * Checks a job's notify `recipients` as LAVA does at submission: email recipients need an SMTP
 * server (MAGMA_SMTP_HOST) and a `user:` must exist.
 * @throws AppError INVALID_JOB_DEFINITION naming the recipient
 */
export async function checkRecipients(ctx: InstanceContext, definition: TJobDefinition): Promise<void> {
  const recipients = definition.notify?.recipients ?? [];
  for (const [i, r] of recipients.entries()) {
    const at = `data['notify']['recipients'][${i}]['to']`;
    if (r.to.method !== "email") continue;
    if (!ctx.config.smtp)
      throw new AppError(
        "INVALID_JOB_DEFINITION",
        `Job invalid: email notifications are not configured on this lab (MAGMA_SMTP_HOST) @ ${at}`,
      );
    if (r.to.user && !(await ctx.db.user.findUnique({ where: { username: r.to.user }, select: { id: true } })))
      throw new AppError("INVALID_JOB_DEFINITION", `Job invalid: user '${r.to.user}' does not exist @ ${at}['user']`);
  }
}

export interface SubmitJobOptions {
  ctx: InstanceContext;
  submitter: User;
  /** the YAML text as submitted */
  text: string;
  /** optional client key: the same (submitter, key) returns the first submission's ids */
  idempotencyKey?: string | null;
  /** `text` already validated by the caller ({@link validateDefinition}), so it is not parsed twice */
  validated?: { definition: TJobDefinition; raw: Record<string, unknown> };
}

/**
 * Submits a job, as LAVA's `TestJob.from_yaml_and_user`: validates the YAML, checks the device type
 * exists, stores the normalised and the original definition with a fresh 32-char job token, state
 * Submitted (one INSERT … RETURNING, grouped with concurrent submissions' by {@link submissionWriter};
 * the device type's id comes from a cache) together with the federation callback of Submitted when
 * the instance is federated, `device:` / `worker:` pinning
 * checked ({@link requestedDeviceAndWorker}), callback hosts checked ({@link checkCallbackHosts}), then
 * asks the scheduler for a pass for that device type.
 * A MultiNode submission (`protocols: lava-multinode`) creates its sub-jobs instead
 * ({@link submitMultinodeJob}) and also returns their `subIds` (`N.0`, `N.1`, as LAVA).
 * @returns `{jobIds, created, subIds?}`; `created` false when the idempotency key matched an earlier job
 * @throws AppError INVALID_JOB_DEFINITION (bad YAML, unknown device type, naming it),
 *   INVALID_REQUEST (idempotency key over 200 chars)
 */
export async function submitJob({
  ctx,
  submitter,
  text,
  idempotencyKey,
  validated,
}: SubmitJobOptions): Promise<{ jobIds: number[]; created: boolean; subIds?: string[] }> {
  const key = idempotencyKey?.trim() || null;
  if (key && key.length > 200) throw new AppError("INVALID_REQUEST", "Idempotency-Key is longer than 200 characters");
  const checked = validated ?? validateDefinition(text);
  checkCallbackHosts(checked.definition, ctx.config.callbackAllowedHosts);
  await checkRecipients(ctx, checked.definition);
  if (isMultinodeSubmission(checked.definition))
    return submitMultinodeJob({ ctx, submitter, text, raw: checked.raw, definition: checked.definition, idempotencyKey: key });
  if (checked.definition.protocols)
    throw new AppError(
      "INVALID_JOB_DEFINITION",
      "Job invalid: protocols.lava-multinode.role is set by the split of a MultiNode submission; submit the roles instead @ data['protocols']['lava-multinode']['role']",
    );
  if (key) {
    const existing = await ctx.db.testJob.findUnique({
      where: { submitterId_idempotencyKey: { submitterId: submitter.id, idempotencyKey: key } },
      select: { id: true },
    });
    if (existing) return { jobIds: [existing.id], created: false };
  }
  const { definition, raw } = checked;
  const typeName = definition.device_type;
  const data = {
    submitterId: submitter.id,
    description: definition.job_name,
    tags: [...new Set(definition.tags ?? [])],
    priority: definition.priority ?? 50,
    visibility: storedVisibility(definition.visibility),
    metadata: definition.metadata ?? {},
    notify: (definition.notify as object | undefined) ?? null,
    definition: normaliseDefinition(raw),
    originalDefinition: text,
    tokenNonce: randomToken(),
    idempotencyKey: key,
  };
  // the federation callback of Submitted, inserted with the job (one statement, atomic)
  const federationUrl = ctx.config.federationCallbackUrl;
  const federationRow = federationOutboxRow("Submitted", federationUrl ? { url: federationUrl } : null);
  const insert = async () => {
    const typeId = await deviceTypeIdByName(ctx.db, typeName);
    if (typeId === null)
      throw new AppError("INVALID_JOB_DEFINITION", `Job invalid: device type '${typeName}' does not exist @ data['device_type']`);
    const pinned = await requestedDeviceAndWorker(ctx, definition, typeId);
    const id = await submissionWriter(ctx.db).insert({ ...data, ...pinned, requestedDeviceTypeId: typeId }, federationRow);
    return { id, typeId };
  };
  try {
    let job: { id: number; typeId: number };
    try {
      job = await insert();
    } catch (e) {
      // a cached device-type id that no longer exists: forget it and look the name up again
      if (sqlState(e) !== "23503") throw e;
      forgetDeviceTypeId(ctx.db, typeName);
      job = await insert();
    }
    ctx.logger.info({ jobId: job.id, submitter: submitter.username, deviceType: typeName }, "job submitted");
    ctx.scheduler?.trigger(job.typeId);
    if (federationRow) ctx.outbox?.wake();
    return { jobIds: [job.id], created: true };
  } catch (e) {
    // two concurrent submits with one key: the loser returns the winner's job
    if (key && sqlState(e) === "23505") {
      const existing = await ctx.db.testJob.findUnique({
        where: { submitterId_idempotencyKey: { submitterId: submitter.id, idempotencyKey: key } },
        select: { id: true },
      });
      if (existing) return { jobIds: [existing.id], created: false };
    }
    throw e;
  }
}
