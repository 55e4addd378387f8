import { z } from "zod";
import { ZJobTimeouts } from "./timeout.ts";
import { ZDeployAction } from "./deploy.ts";
import { ZBootAction } from "./boot.ts";
import { ZTestAction } from "./test.ts";
import { ZNotify } from "./notify.ts";
import { PRIORITY_NAMES } from "../job-state.ts";
import { ZJobProtocols } from "./multinode.ts";

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

/** LAVA's `context: arch` values and the QEMU system emulator each needs (LAVA's qemu.jinja2 picks it by arch). */
export const QEMU_ARCH_BINARY: Readonly<Record<string, string>> = {
  amd64: "qemu-system-x86_64",
  x86_64: "qemu-system-x86_64",
  i386: "qemu-system-i386",
  arm64: "qemu-system-aarch64",
  aarch64: "qemu-system-aarch64",
  arm: "qemu-system-arm",
  armhf: "qemu-system-arm",
  armel: "qemu-system-arm",
  riscv64: "qemu-system-riscv64",
};

const qemuWord = z.string().regex(/^[A-Za-z0-9_.,=+-]{1,200}$/, "letters, digits and _.,=+- only");

/**
 * The job `context:` keys Magma applies to a QEMU DUT (LAVA's qemu.jinja2 context): `arch` must match
 * the device's emulator, `machine`, `cpu`, `memory` (MB) and `cpus` replace the device dictionary's,
 * `extra_options` are QEMU options under the same allow-list as `image_arg`, `netdevice` is `user`
 * (user-mode networking; a host tap device is not a job's to ask for). Any other key is refused at
 * submission, never silently ignored.
 */
export const ZJobContext = z.strictObject({
  arch: z.enum(Object.keys(QEMU_ARCH_BINARY) as [string, ...string[]]).optional(),
  machine: qemuWord.optional(),
  cpu: qemuWord.optional(),
  memory: z.number().int().min(16, "memory is in MB: at least 16").max(65536, "memory is in MB: at most 65536").optional(),
  cpus: z.number().int().min(1).max(64).optional(),
  netdevice: z.literal("user", { error: "netdevice: only 'user' (QEMU user-mode networking) is available to jobs" }).optional(),
  extra_options: z.array(z.string().max(1000)).max(32).optional(),
});
export type TJobContext = z.infer<typeof ZJobContext>;

/**
 * A LAVA job definition (lava_common/schemas/__init__.py `job()`), restricted to the methods Magma
 * runs: unknown top-level keys are rejected, as LAVA's voluptuous schema does ("extra keys not allowed").
 */
export const ZJobDefinition = z.strictObject({
  job_name: z.string().min(1, "job_name must not be empty").max(200, "job_name is longer than 200 characters"),
  device_type: z.string().min(1, "device_type must not be empty"),
  /** LAVA 2025+: run on this device only (hostname; must be of `device_type`) */
  device: z.string().min(1, "device must not be empty").max(200, "device is longer than 200 characters").optional(),
  /** LAVA 2025+: run on a device of this worker only (hostname) */
  worker: z.string().min(1, "worker must not be empty").max(200, "worker is longer than 200 characters").optional(),
  timeouts: ZJobTimeouts,
  priority: ZPriority.optional(),
  visibility: ZVisibility,
  context: ZJobContext.optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  tags: z.array(z.string()).optional(),
  notify: ZNotify.optional(),
  secrets: z.record(z.string(), z.string()).optional(),
  environment: z.record(z.string(), z.unknown()).optional(),
  /** `lava-multinode` only (see multinode.ts); actions' `role:` keys are checked and removed by the parser */
  protocols: ZJobProtocols.optional(),
  actions: z.array(ZJobAction).min(1, "actions must list at least one action"),
});
/** A validated job definition (priority normalised to 0–100, metadata values as strings). */
export type TJobDefinition = z.infer<typeof ZJobDefinition>;
