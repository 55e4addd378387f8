import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { formatDefinitionErrors, parseJobDefinition, type TJobDefinition, type TVisibility } from "@magma/protocol";
import type { User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import { storedVisibility } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { deviceTypeIdByName, forgetDeviceTypeId } from "../devices/device-type-ids.ts";
import { isMultinodeSubmission, submitMultinodeJob } from "./submit-multinode-job.ts";

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 32 random alphanumerics, LAVA's job/worker token shape. */
export function randomToken(length = 32): string {
  const bytes = randomBytes(length);
  let s = "";
  for (const b of bytes) s += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
  return s;
}

/** LAVA stores the definition with keys sorted (yaml.safe_dump default); comments are in original_definition. */
export function normaliseDefinition(raw: Record<string, unknown>): string {
  return stringify(raw, { sortMapEntries: true, lineWidth: 0 });
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
 * Submitted (one INSERT … RETURNING; the device type's id comes from a cache), then asks the
 * scheduler for a pass for that device type.
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
    notify: (definition.notify as object | undefined) ?? undefined,
    definition: normaliseDefinition(raw),
    originalDefinition: text,
    tokenNonce: randomToken(),
    idempotencyKey: key,
  };
  const insert = async () => {
    const typeId = await deviceTypeIdByName(ctx.db, typeName);
    if (typeId === null)
      throw new AppError("INVALID_JOB_DEFINITION", `Job invalid: device type '${typeName}' does not exist @ data['device_type']`);
    const job = await ctx.db.testJob.create({ data: { ...data, requestedDeviceTypeId: typeId }, select: { id: true } });
    return { id: job.id, typeId };
  };
  try {
    let job: { id: number; typeId: number };
    try {
      job = await insert();
    } catch (e) {
      // a cached device-type id that no longer exists: forget it and look the name up again
      if ((e as { code?: string }).code !== "P2003") throw e;
      forgetDeviceTypeId(ctx.db, typeName);
      job = await insert();
    }
    ctx.logger.info({ jobId: job.id, submitter: submitter.username, deviceType: typeName }, "job submitted");
    ctx.scheduler?.trigger(job.typeId);
    return { jobIds: [job.id], created: true };
  } catch (e) {
    // two concurrent submits with one key: the loser returns the winner's job
    if (key && (e as { code?: string }).code === "P2002") {
      const existing = await ctx.db.testJob.findUnique({
        where: { submitterId_idempotencyKey: { submitterId: submitter.id, idempotencyKey: key } },
        select: { id: true },
      });
      if (existing) return { jobIds: [existing.id], created: false };
    }
    throw e;
  }
}
