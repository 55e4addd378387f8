import { z } from "zod";
import { DEVICE_HEALTHS, DEVICE_STATES, WORKER_HEALTHS, WORKER_STATES } from "../job-state.ts";

/**
 * QEMU settings of a device dictionary (what LAVA's qemu.jinja2 device-type template renders):
 * binary, machine (accel=tcg: this kind of machine has no usable KVM), memory in MiB, SMP count,
 * extra options appended to the command line.
 */
export const ZQemuSettings = z.strictObject({
  binary: z.string().default("qemu-system-x86_64"),
  machine: z.string().default("pc,accel=tcg"),
  cpu: z.string().optional(),
  memory_mb: z.number().int().positive().default(256),
  smp: z.number().int().positive().default(1),
  extra_options: z.array(z.string()).default([]),
});
export type TQemuSettings = z.infer<typeof ZQemuSettings>;

/**
 * A device dictionary as Magma renders it for the worker: the device type's defaults merged with
 * the device's own keys (LAVA renders a device-type jinja2 template with the device dictionary).
 * Keys beyond those typed here are kept (loose) so issue-4 settings (connection_command, power
 * commands, bootloader prompts) pass through unchanged.
 */
export const ZDeviceDictionary = z.looseObject({
  device_type: z.string().min(1),
  hostname: z.string().min(1),
  qemu: ZQemuSettings.optional(),
  connection_command: z.string().optional(),
  power_on_command: z.string().optional(),
  power_off_command: z.string().optional(),
  hard_reset_command: z.string().optional(),
});
export type TDeviceDictionary = z.infer<typeof ZDeviceDictionary>;

/** REST `api/v0.2/devices/` item, LAVA's field names. */
export const ZDeviceSummary = z.object({
  hostname: z.string(),
  device_type: z.string(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  state: z.enum(DEVICE_STATES),
  health: z.enum(DEVICE_HEALTHS),
  worker_host: z.string().nullable(),
  current_job: z.number().int().nullable(),
  last_health_report_job: z.number().int().nullable(),
});
export type TDeviceSummary = z.infer<typeof ZDeviceSummary>;

/** REST `api/v0.2/devicetypes/` item. */
export const ZDeviceTypeSummary = z.object({
  name: z.string(),
  description: z.string().nullable(),
  display: z.boolean(),
  health_frequency: z.number().int(),
  health_denominator: z.enum(["hours", "jobs"]),
  disable_health_check: z.boolean(),
});
export type TDeviceTypeSummary = z.infer<typeof ZDeviceTypeSummary>;

/** REST `api/v0.2/workers/` item (the token is never listed). */
export const ZWorkerSummary = z.object({
  hostname: z.string(),
  description: z.string().nullable(),
  state: z.enum(WORKER_STATES),
  health: z.enum(WORKER_HEALTHS),
  last_ping: z.string().nullable(),
  job_limit: z.number().int(),
  version: z.string().nullable(),
});
export type TWorkerSummary = z.infer<typeof ZWorkerSummary>;
