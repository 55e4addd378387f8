import { z } from "zod";
import { ZTimeout } from "./timeout.ts";

/**
 * LAVA's MultiNode protocol (`protocols: lava-multinode`), as lava_scheduler_app splits it and
 * lava_dispatcher's MultinodeProtocol reads it. Two forms share one schema:
 *
 * - the **submission** form: `roles: {<role>: {device_type, count, context?, tags?, timeout?}}` and a
 *   group `timeout` (the poll timeout of every lava-send/-wait/-wait-all/-sync call); every action
 *   names the roles it belongs to with `role: [..]`;
 * - the **sub-job** form, what each sub-job's stored definition holds after the split
 *   ({@link splitMultinodeDefinition}): `role`, `target_group`, `group_size`, `sub_id`, and, once the
 *   group is scheduled, `roles: {<job id>: <role>}` (LAVA's `transition_multinode_jobs`).
 */
export const MULTINODE_PROTOCOL = "lava-multinode";

const roleName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a role name: letters, digits, '_', '.', '-' (at most 64)");

/** One role of a MultiNode submission: which device type, how many sub-jobs, their context and tags. */
export const ZMultinodeRole = z.strictObject({
  device_type: z.string().min(1, "device_type must not be empty"),
  count: z.number().int().min(1, "count must be at least 1").max(32, "count is at most 32"),
  context: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string()).optional(),
  timeout: ZTimeout.optional(),
  essential: z.boolean().optional(),
});
export type TMultinodeRole = z.infer<typeof ZMultinodeRole>;

/** The `lava-multinode` protocol block, submission or sub-job form (see {@link MULTINODE_PROTOCOL}). */
export const ZMultinodeProtocol = z.strictObject({
  timeout: ZTimeout.optional(),
  /** submission: role name → role; sub-job after scheduling: job id → role name */
  roles: z.record(z.string(), z.union([ZMultinodeRole, roleName])),
  role: roleName.optional(),
  target_group: z.string().min(1).max(64).optional(),
  group_size: z.number().int().min(1).optional(),
  sub_id: z.number().int().min(0).optional(),
  tags: z.array(z.string()).optional(),
  essential: z.boolean().optional(),
});
export type TMultinodeProtocol = z.infer<typeof ZMultinodeProtocol>;

/** `protocols:` — Magma runs `lava-multinode` only; others are refused at submission. */
export const ZJobProtocols = z.strictObject({ [MULTINODE_PROTOCOL]: ZMultinodeProtocol });
export type TJobProtocols = z.infer<typeof ZJobProtocols>;

/** Top-level keys a sub-job copies from the submission (LAVA's `split_multinode_yaml` `copies`, plus environment). */
const COPIED_KEYS = ["job_name", "timeouts", "priority", "visibility", "notify", "metadata", "secrets", "environment"] as const;

/** One sub-job of a split MultiNode submission. */
export interface TMultinodeSubJob {
  role: string;
  /** position in the group: `N.<subId>` once the first sub-job's id N is known */
  subId: number;
  deviceType: string;
  tags: string[];
  /** the sub-job's definition, as a plain mapping ready to be stored */
  raw: Record<string, unknown>;
}

/**
 * Splits a MultiNode submission into one definition per role × count, as LAVA's
 * `split_multinode_yaml`: each sub-job copies job_name, timeouts, priority, visibility, notify,
 * metadata, secrets and environment; takes device_type and context from its role; keeps only the
 * actions whose `role` list names its role (in order, `role` then set to the role's name); and gets
 * the protocol block `{role, target_group, group_size, sub_id, timeout, roles, …role keys}`. Sub
 * ids count from 0 across roles in the order the submission lists them.
 * @param raw a submission already checked by the job-definition parser (roles, action roles)
 * @param targetGroup the group's label (a UUID, as LAVA's)
 * @throws Error when a role has no action (`Role 'x' has no action`)
 */
export function splitMultinodeDefinition(raw: Record<string, unknown>, targetGroup: string): TMultinodeSubJob[] {
  const protocol = (raw["protocols"] as Record<string, unknown>)[MULTINODE_PROTOCOL] as Record<string, unknown>;
  const roles = protocol["roles"] as Record<string, TMultinodeRole>;
  const groupSize = Object.values(roles).reduce((n, r) => n + r.count, 0);
  const out: TMultinodeSubJob[] = [];
  let subId = 0;
  for (const [role, params] of Object.entries(roles)) {
    const actions = (raw["actions"] as Record<string, Record<string, unknown>>[])
      .filter((a) => {
        const body = Object.values(a)[0]!;
        const r = body["role"];
        return Array.isArray(r) ? r.includes(role) : r === role;
      })
      .map((a) => {
        const [kind, body] = Object.entries(a)[0]!;
        return { [kind]: { ...structuredClone(body), role } };
      });
    if (!actions.length) throw new Error(`Role '${role}' has no action`);
    for (let k = 0; k < params.count; k++) {
      const sub: Record<string, unknown> = {};
      for (const key of COPIED_KEYS) if (raw[key] !== undefined) sub[key] = structuredClone(raw[key]);
      sub["device_type"] = params.device_type;
      if (params.context) sub["context"] = structuredClone(params.context);
      const own: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(params)) if (!["device_type", "count", "context"].includes(key)) own[key] = value;
      const shared: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(protocol)) if (key !== "roles" && key !== "role") shared[key] = value;
      sub["protocols"] = {
        [MULTINODE_PROTOCOL]: {
          ...structuredClone(shared),
          ...structuredClone(own),
          role,
          roles: {},
          target_group: targetGroup,
          group_size: groupSize,
          sub_id: subId,
        },
      };
      sub["actions"] = structuredClone(actions);
      out.push({ role, subId, deviceType: params.device_type, tags: params.tags ?? [], raw: sub });
      subId++;
    }
  }
  return out;
}

/** Whether a parsed definition is a MultiNode one (either form). */
export function isMultinode(raw: Record<string, unknown>): boolean {
  const p = raw["protocols"];
  return !!p && typeof p === "object" && MULTINODE_PROTOCOL in p;
}
