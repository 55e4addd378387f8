import { z } from "zod";
import { ZJobTimeouts } from "./timeout.ts";
import { ZDeployAction } from "./deploy.ts";
import { ZBootAction } from "./boot.ts";
import { ZTestAction } from "./test.ts";
import { ZNotify } from "./notify.ts";
import { PRIORITY_NAMES } from "../job-state.ts";

/** `priority:` as LAVA accepts it — high|medium|low or an int 0–100 — normalised to the int. */
export const ZPriority = z
  .union([z.enum(["high", "medium", "low"]), z.number().int().min(0).max(100)])
  .transform((p) => (typeof p === "number" ? p : PRIORITY_NAMES[p]));

/** `visibility:` public | personal | {group: [names]} (LAVA's job visibility). */
export const ZVisibility = z.union([
  z.enum(["public", "personal"]),
  z.strictObject({ group: z.array(z.string().min(1)).min(1, "group must list at least one group") }),
]);
export type TVisibility = z.infer<typeof ZVisibility>;

/** One pipeline action: exactly one of deploy / boot / test. */
export const ZJobAction = z.union([
  z.strictObject({ deploy: ZDeployAction }),
  z.strictObject({ boot: ZBootAction }),
  z.strictObject({ test: ZTestAction }),
]);
export type TJobAction = z.infer<typeof ZJobAction>;

/**
 * A LAVA job definition (lava_common/schemas/__init__.py `job()`), restricted to the methods Magma
 * runs: unknown top-level keys are rejected, as LAVA's voluptuous schema does ("extra keys not allowed").
 */
export const ZJobDefinition = z.strictObject({
  job_name: z.string().min(1, "job_name must not be empty").max(200, "job_name is longer than 200 characters"),
  device_type: z.string().min(1, "device_type must not be empty"),
  timeouts: ZJobTimeouts,
  priority: ZPriority.optional(),
  visibility: ZVisibility,
  context: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  tags: z.array(z.string()).optional(),
  notify: ZNotify.optional(),
  secrets: z.record(z.string(), z.string()).optional(),
  environment: z.record(z.string(), z.unknown()).optional(),
  actions: z.array(ZJobAction).min(1, "actions must list at least one action"),
});
/** A validated job definition (priority normalised to 0–100, metadata values as strings). */
export type TJobDefinition = z.infer<typeof ZJobDefinition>;
