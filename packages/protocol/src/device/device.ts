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

/** A power command: one shell command, or several run in order (LAVA accepts both). */
export const ZPowerCommand = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
export type TPowerCommand = z.infer<typeof ZPowerCommand>;

/** A local serial line (`/dev/ttyUSB0`, a socat PTY): path and baud rate, always 8N1. */
export const ZSerialSettings = z.strictObject({
  path: z.string().min(1, "serial.path must not be empty"),
  baud: z.number().int().positive().default(115200),
});
export type TSerialSettings = z.infer<typeof ZSerialSettings>;

/**
 * U-Boot boot commands of a device type: one list, or named lists (`ramdisk`, `nfs`…) that a job's
 * `boot: commands: <name>` picks (LAVA's `actions.boot.methods.u-boot.<name>.commands`).
 */
export const ZBootCommands = z.union([z.array(z.string()), z.record(z.string(), z.array(z.string()))]);
export type TBootCommands = z.infer<typeof ZBootCommands>;

/**
 * A device dictionary as Magma renders it for the worker: the device type's defaults deep-merged
 * with the device's own keys (mappings merge key by key; a list or scalar in the device replaces the
 * type's), plus `hostname` and `device_type` — Magma's stand-in for LAVA rendering a device-type
 * jinja2 template with the device dictionary. Keys, in LAVA's vocabulary:
 * - console: `connection_command` (`telnet HOST PORT`, as ser2net serves a board) or `serial`
 *   (`{path, baud}`, opened with serialport); QEMU devices booted by `method: qemu` need neither;
 *   `connection_reconnect_seconds`: how long a dropped console is re-dialled (capped by the action's
 *   deadline; default 20);
 * - power: `power_on_command`, `power_off_command`, `hard_reset_command` (shell; `hard_reset` falls
 *   back to off + on), `power_command_timeout_seconds` (default 30);
 * - U-Boot: `bootloader_prompt` (`=> `), `interrupt_prompt` (`Hit any key to stop autoboot`),
 *   `interrupt_char` (`""` = a newline), `boot_commands`, `kernel_addr`, `ramdisk_addr`, `dtb_addr`,
 *   `kernel_start_message` (`Linux version [0-9]`), `bootloader_error_messages` (extra patterns that
 *   fail the boot);
 * - `qemu`: settings for `boot: method: qemu`.
 * Other keys are kept (loose) and passed through unchanged.
 */
export const ZDeviceDictionary = z.looseObject({
  device_type: z.string().min(1),
  hostname: z.string().min(1),
  qemu: ZQemuSettings.optional(),
  connection_command: z.string().min(1).optional(),
  serial: ZSerialSettings.optional(),
  connection_reconnect_seconds: z.number().nonnegative().optional(),
  power_on_command: ZPowerCommand.optional(),
  power_off_command: ZPowerCommand.optional(),
  hard_reset_command: ZPowerCommand.optional(),
  power_command_timeout_seconds: z.number().positive().optional(),
  bootloader_prompt: z.string().min(1).optional(),
  interrupt_prompt: z.string().min(1).optional(),
  interrupt_char: z.string().optional(),
  boot_commands: ZBootCommands.optional(),
  kernel_addr: z.string().min(1).optional(),
  ramdisk_addr: z.string().min(1).optional(),
  dtb_addr: z.string().min(1).optional(),
  kernel_start_message: z.string().min(1).optional(),
  bootloader_error_messages: z.array(z.string().min(1)).optional(),
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

/**
 * The keys a device (or device type) stores as its own dictionary: every {@link ZDeviceDictionary}
 * key except `hostname` and `device_type`, which the instance adds when rendering. Unknown keys are
 * kept. Body of `PUT api/v0.2/devices/<hostname>/dictionary/` (`{dictionary: …}`).
 */
export const ZDeviceDictionaryOverrides = ZDeviceDictionary.omit({ hostname: true, device_type: true });
export type TDeviceDictionaryOverrides = z.infer<typeof ZDeviceDictionaryOverrides>;

/** `PUT api/v0.2/devices/<hostname>/dictionary/` request: the device's own keys (replacing the stored ones). */
export const ZSetDeviceDictionaryRequestSchema = z.strictObject({ dictionary: z.record(z.string(), z.unknown()) });

/**
 * `GET|PUT api/v0.2/devices/<hostname>/dictionary/` response: the device's own keys, its device
 * type's defaults, and the rendered result the worker receives (YAML).
 */
export const ZDeviceDictionaryResponseSchema = z.object({
  hostname: z.string(),
  device_type: z.string(),
  dictionary: z.record(z.string(), z.unknown()),
  device_type_defaults: z.record(z.string(), z.unknown()),
  /** the device's LAVA jinja2 dictionary, when it has one (then `dictionary` is empty) */
  jinja2: z.string().optional(),
  rendered: z.string(),
});
export type TDeviceDictionaryResponse = z.infer<typeof ZDeviceDictionaryResponseSchema>;

/**
 * `POST api/v0.2/devices/<hostname>/set_health/` request (LAVA REST): `health` by name (any case,
 * lavacli's GOOD/MAINTENANCE are accepted) and an optional `reason` kept in the instance log.
 */
export const ZSetDeviceHealthRequestSchema = z.object({
  health: z
    .string()
    .transform((h) => h.charAt(0).toUpperCase() + h.slice(1).toLowerCase())
    .pipe(z.enum(DEVICE_HEALTHS)),
  reason: z.string().max(500).optional(),
});
export type TSetDeviceHealthRequest = z.infer<typeof ZSetDeviceHealthRequestSchema>;
