import { randomUUID } from "node:crypto";
import { MULTINODE_PROTOCOL, splitMultinodeDefinition, type TJobDefinition } from "@magma/protocol";
import { storedVisibility, type User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { deviceTypeIdByName } from "../devices/device-type-ids.ts";
import { normaliseDefinition, randomToken } from "./submit-job.ts";

/** What a MultiNode submission created: the sub-jobs' ids and LAVA's `N.k` sub ids, in sub-id order. */
export interface MultinodeSubmission {
  jobIds: number[];
  subIds: string[];
  created: boolean;
}

/**
 * Whether a validated definition is a MultiNode submission (roles with device types, no `role`
 * of its own yet) rather than a single-node job or an already split sub-job.
 */
export function isMultinodeSubmission(definition: TJobDefinition): boolean {
  const p = definition.protocols?.[MULTINODE_PROTOCOL];
  return !!p && p.role === undefined;
}

/**
 * Submits a MultiNode job as LAVA's `TestJob.from_yaml_and_user` does for `lava-multinode`: checks
 * every role's device type exists and has at least `count` devices that are not Retired (LAVA's
 * "Not enough devices of type X are currently available"), splits the definition
 * ({@link splitMultinodeDefinition}) under a fresh target group (a UUID), and creates one TestJob
 * per role × count in one transaction, numbered `N.0`, `N.1`, … after the first sub-job's id N
 * (LAVA's sub_id). Each sub-job stores its own split definition and, as `original_definition`, the
 * whole submission (LAVA's multinode_definition, what a resubmit sends again). The idempotency key
 * goes on the first sub-job: the same (submitter, key) returns the group again.
 * @returns the sub-jobs' ids and sub ids, in sub-id order
 * @throws AppError INVALID_JOB_DEFINITION (unknown device type, too few devices, naming the role)
 */
export async function submitMultinodeJob({
  ctx,
  submitter,
  text,
  raw,
  definition,
  idempotencyKey,
}: {
  ctx: InstanceContext;
  submitter: User;
  text: string;
  raw: Record<string, unknown>;
  definition: TJobDefinition;
  idempotencyKey: string | null;
}): Promise<MultinodeSubmission> {
  if (idempotencyKey) {
    const existing = await ctx.db.testJob.findUnique({
      where: { submitterId_idempotencyKey: { submitterId: submitter.id, idempotencyKey } },
      select: { targetGroup: true },
    });
    if (existing?.targetGroup) return { ...(await groupIds(ctx, existing.targetGroup)), created: false };
  }
  const targetGroup = randomUUID();
  const subs = splitMultinodeDefinition(raw, targetGroup);
  const typeIds = new Map<string, number>();
  const wanted = new Map<string, number>();
  for (const s of subs) wanted.set(s.deviceType, (wanted.get(s.deviceType) ?? 0) + 1);
  for (const [typeName, count] of wanted) {
    const typeId = await deviceTypeIdByName(ctx.db, typeName);
    const role = subs.find((s) => s.deviceType === typeName)!.role;
    const where = `@ data['protocols']['${MULTINODE_PROTOCOL}']['roles']['${role}']['device_type']`;
    if (typeId === null) throw new AppError("INVALID_JOB_DEFINITION", `Job invalid: device type '${typeName}' does not exist ${where}`);
    const devices = await ctx.db.device.count({ where: { deviceTypeId: typeId, health: { not: "Retired" } } });
    if (devices < count)
      throw new AppError(
        "INVALID_JOB_DEFINITION",
        `Job invalid: not enough devices of type '${typeName}' (${devices}) for ${count} sub-jobs ${where}`,
      );
    typeIds.set(typeName, typeId);
  }
  const ids = await ctx.db.$transaction(async (tx) => {
    const created: number[] = [];
    for (const s of subs) {
      const job = await tx.testJob.create({
        data: {
          submitterId: submitter.id,
          description: definition.job_name,
          requestedDeviceTypeId: typeIds.get(s.deviceType)!,
          tags: [...new Set(s.tags)],
          priority: definition.priority ?? 50,
          visibility: storedVisibility(definition.visibility),
          metadata: definition.metadata ?? {},
          notify: (definition.notify as object | undefined) ?? undefined,
          definition: normaliseDefinition(s.raw),
          originalDefinition: text,
          tokenNonce: randomToken(),
          targetGroup,
          idempotencyKey: created.length === 0 ? idempotencyKey : null,
        },
        select: { id: true },
      });
      created.push(job.id);
    }
    const parent = created[0]!;
    for (const [k, id] of created.entries()) await tx.testJob.update({ where: { id }, data: { subId: `${parent}.${subs[k]!.subId}` } });
    return created;
  });
  const subIds = ids.map((_, k) => `${ids[0]}.${subs[k]!.subId}`);
  ctx.logger.info({ jobIds: ids, subIds, targetGroup, submitter: submitter.username }, "multinode job submitted");
  ctx.scheduler?.trigger();
  return { jobIds: ids, subIds, created: true };
}

/** The ids and sub ids of a group's sub-jobs, in sub-id order. */
async function groupIds(ctx: InstanceContext, targetGroup: string): Promise<{ jobIds: number[]; subIds: string[] }> {
  const rows = await ctx.db.testJob.findMany({ where: { targetGroup }, select: { id: true, subId: true }, orderBy: { id: "asc" } });
  return { jobIds: rows.map((r) => r.id), subIds: rows.map((r) => r.subId ?? String(r.id)) };
}
