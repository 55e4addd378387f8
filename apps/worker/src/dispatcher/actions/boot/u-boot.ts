import type { TBootUBoot, TDeviceDictionary, TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { ConfigurationError, InfrastructureError, JobError } from "../../../errors.ts";
import type { JobContext } from "../../job.ts";
import { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { promptRegExp } from "../../../connections/console-session.ts";
import { ResetDeviceAction } from "../../power.ts";
import { tftpRelativePath } from "../deploy/tftp.ts";
import { ConnectDeviceAction } from "./connect-device.ts";
import { addShellActions } from "../shell/expect-shell.ts";
import { ShellSession } from "../shell/session.ts";
import type { OverlayStage } from "../../overlay.ts";
import { CompressOverlayAction } from "../deploy/compress-overlay.ts";
import { OverlayUnpackAction } from "./overlay-unpack.ts";

/** U-Boot defaults when the device dictionary names none (LAVA's base-uboot.jinja2). */
export const UBOOT_DEFAULTS = {
  bootloader_prompt: "=> ",
  interrupt_prompt: "Hit any key to stop autoboot",
  interrupt_char: "",
  kernel_addr: "0x82000000",
  ramdisk_addr: "0x83000000",
  dtb_addr: "0x88000000",
  kernel_start_message: "Linux version [0-9]",
} as const;

/**
 * U-Boot answers that fail the boot at once (instead of waiting for the timeout), with whose fault
 * they are: network trouble between the board and the worker is the lab's; a missing file, a wrong
 * image or an unknown command is the job's (its commands or images).
 */
export const UBOOT_ERRORS: { pattern: string; infrastructure: boolean }[] = [
  { pattern: "Retry count exceeded", infrastructure: true },
  { pattern: "TFTP server died", infrastructure: true },
  { pattern: "No ethernet found", infrastructure: true },
  { pattern: "File not found", infrastructure: false },
  { pattern: "Wrong Image Format", infrastructure: false },
  { pattern: "Bad Linux ARM zImage magic", infrastructure: false },
  { pattern: "ERROR: can't get kernel image", infrastructure: false },
  { pattern: "Ramdisk image is corrupt or invalid", infrastructure: false },
  { pattern: "Unknown command", infrastructure: false },
  { pattern: "\\*\\*\\* ERROR", infrastructure: false },
];

/** The U-Boot settings of a boot: job parameters over the device dictionary over {@link UBOOT_DEFAULTS}. */
export function ubootSettings(device: TDeviceDictionary, params: Pick<TBootUBoot, "bootloader_prompt">) {
  return {
    bootloaderPrompt: params.bootloader_prompt ?? device.bootloader_prompt ?? UBOOT_DEFAULTS.bootloader_prompt,
    interruptPrompt: device.interrupt_prompt ?? UBOOT_DEFAULTS.interrupt_prompt,
    interruptChar: device.interrupt_char ?? UBOOT_DEFAULTS.interrupt_char,
    kernelStart: device.kernel_start_message ?? UBOOT_DEFAULTS.kernel_start_message,
    errors: [...UBOOT_ERRORS, ...(device.bootloader_error_messages ?? []).map((pattern) => ({ pattern, infrastructure: false }))],
  };
}

/**
 * The boot commands of a job: its own list, or the named set from the device dictionary's
 * `boot_commands` (a plain list there serves any name).
 * @throws ConfigurationError when the device type has no such set
 */
export function selectBootCommands(device: TDeviceDictionary, commands: TBootUBoot["commands"]): string[] {
  if (Array.isArray(commands)) return commands;
  const sets = device.boot_commands;
  if (!sets)
    throw new ConfigurationError(
      `device ${device.hostname} has no boot_commands in its device dictionary (the job asks for '${commands}')`,
    );
  if (Array.isArray(sets)) return sets;
  const set = sets[commands];
  if (!set)
    throw new ConfigurationError(
      `device ${device.hostname} has no boot commands named '${commands}' (it has: ${Object.keys(sets).join(", ") || "none"})`,
    );
  return set;
}

/** `bootz`/`bootm`/`booti` for {BOOTX}: the boot's `type`, else from the kernel's `type`, else bootz. */
function bootCommand(ctx: JobContext, type: TBootUBoot["type"]): string {
  if (type) return type;
  for (const a of ctx.definition.actions) {
    if ("deploy" in a && a.deploy.to === "tftp") {
      const k = a.deploy.kernel.type;
      if (k === "uimage") return "bootm";
      if (k === "image") return "booti";
    }
  }
  return "bootz";
}

/**
 * Replaces LAVA's placeholders in boot commands: {SERVER_IP}, {TFTP_PORT}, {KERNEL}, {RAMDISK},
 * {DTB} (paths under the job's TFTP root), {KERNEL_ADDR}, {RAMDISK_ADDR}, {DTB_ADDR} (dictionary
 * `kernel_addr`… or U-Boot defaults), {BOOTX} (`<type> <kernel addr> <ramdisk addr|-> [<dtb addr>]`).
 * Unknown `{WORDS}` are left alone (U-Boot's own `${vars}` never match).
 * @throws JobError when a command needs an image the job did not deploy or a TFTP server it did not start
 */
export function substituteBootCommands(ctx: JobContext, commands: string[], type: TBootUBoot["type"]): string[] {
  const d = ctx.device;
  const addr = {
    KERNEL_ADDR: d.kernel_addr ?? UBOOT_DEFAULTS.kernel_addr,
    RAMDISK_ADDR: d.ramdisk_addr ?? UBOOT_DEFAULTS.ramdisk_addr,
    DTB_ADDR: d.dtb_addr ?? UBOOT_DEFAULTS.dtb_addr,
  };
  const ramdisk = tftpRelativePath(ctx, "ramdisk");
  const dtb = tftpRelativePath(ctx, "dtb");
  const values: Record<string, () => string | undefined> = {
    SERVER_IP: () => (ctx.tftp ? ctx.tftp.host : undefined),
    TFTP_PORT: () => (ctx.tftp ? String(ctx.tftp.port) : undefined),
    KERNEL: () => tftpRelativePath(ctx, "kernel"),
    RAMDISK: () => ramdisk,
    DTB: () => dtb,
    ...Object.fromEntries(Object.entries(addr).map(([k, v]) => [k, () => v])),
    BOOTX: () => [bootCommand(ctx, type), addr.KERNEL_ADDR, ramdisk ? addr.RAMDISK_ADDR : "-", ...(dtb ? [addr.DTB_ADDR] : [])].join(" "),
  };
  return commands.map((cmd) =>
    cmd.replace(/\{([A-Z_]+)\}/g, (whole, key: string) => {
      const get = values[key];
      if (!get) return whole;
      const v = get();
      if (v === undefined)
        throw new JobError(
          `boot command '${cmd}' uses {${key}}, but the job deployed nothing for it (a 'deploy: to: tftp' with that image must come first)`,
        );
      return v;
    }),
  );
}

/** Commands of one u-boot boot, filled in by `bootloader-overlay` and typed by `bootloader-commands`. */
interface CommandPlan {
  commands: string[];
}

/** Substitutes the boot commands (LAVA's `bootloader-overlay`) and logs them. */
export class BootloaderCommandOverlayAction extends Action {
  static readonly name = "bootloader-overlay";
  static readonly description = "substitute job data into bootloader command list";
  static readonly summary = "replace placeholders with job data";

  constructor(
    private readonly params: TBootUBoot,
    private readonly plan: CommandPlan,
  ) {
    super();
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    try {
      selectBootCommands(ctx.device, this.params.commands);
      return [];
    } catch (e) {
      return [(e as Error).message];
    }
  }

  async run({ ctx, connection }: ActionRunOptions): Promise<Connection> {
    this.plan.commands = substituteBootCommands(ctx, selectBootCommands(ctx.device, this.params.commands), this.params.type);
    ctx.log.info(`Parsed boot commands: ${this.plan.commands.join("; ")}`);
    return connection;
  }
}

/**
 * Waits for U-Boot's `interrupt_prompt` ("Hit any key to stop autoboot"), sends `interrupt_char`
 * (empty = a newline), then waits for the bootloader prompt (LAVA's `bootloader-interrupt`).
 */
export class BootloaderInterruptAction extends Action {
  static readonly name = "bootloader-interrupt";
  static readonly description = "interrupt bootloader";
  static readonly summary = "interrupt bootloader to get an interactive shell";

  constructor(private readonly params: TBootUBoot) {
    super();
  }

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx } = options;
    const shell = ShellSession.forAction(this, options, {
      noConsole: "bootloader-interrupt has no console: connect-device must run first",
      watchQemu: false,
    });
    const s = ubootSettings(ctx.device, this.params);
    ctx.log.debug(`${this.name}: Wait for prompt ['${s.interruptPrompt}']`);
    await shell.expect([promptRegExp(s.interruptPrompt)]);
    if (s.interruptChar === "") await shell.type("", "(newline)");
    else {
      ctx.log.input(JSON.stringify(s.interruptChar));
      await shell.connection.write(s.interruptChar);
    }
    await shell.expect([promptRegExp(s.bootloaderPrompt)]);
    return shell.connection;
  }
}

/**
 * Types the boot commands at the bootloader prompt (LAVA's `bootloader-commands`): after each
 * command but the last, waits for the prompt again; after the last, waits for the kernel's start
 * message. A known U-Boot error line (TFTP "File not found", "Wrong Image Format", `bootm` with no
 * image…) fails at once, naming the command and U-Boot's answer; U-Boot coming back to its prompt
 * after the last command means the boot command failed.
 */
export class BootloaderCommandsAction extends Action {
  static readonly name = "bootloader-commands";
  static readonly description = "send commands to bootloader";
  static readonly summary = "interactive bootloader";

  constructor(
    private readonly params: TBootUBoot,
    private readonly plan: CommandPlan,
  ) {
    super();
  }

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx } = options;
    const shell = ShellSession.forAction(this, options, {
      noConsole: "bootloader-commands has no console: connect-device must run first",
      watchQemu: false,
    });
    const s = ubootSettings(ctx.device, this.params);
    const prompt = promptRegExp(s.bootloaderPrompt);
    // RE2, so the error scan stays linear in the console text (a backtracking `[^\n]*X[^\n]*` is quadratic on a long line)
    const errors = s.errors.map((e) => ({ ...e, re: promptRegExp(`[^\\n]*(?:${e.pattern})[^\\n]*`) }));
    const commands = this.plan.commands;
    if (!commands.length) throw new JobError("no boot commands to send");
    for (const [i, cmd] of commands.entries()) {
      const last = i === commands.length - 1;
      const waitFor = last ? [promptRegExp(s.kernelStart), prompt] : [prompt];
      const m = await shell.run(cmd, [...waitFor, ...errors.map((e) => e.re)]);
      if (m.index >= waitFor.length) {
        const e = errors[m.index - waitFor.length]!;
        const msg = `U-Boot answered '${m.match[0].trim()}' to '${cmd}'`;
        throw e.infrastructure ? new InfrastructureError(msg) : new JobError(msg);
      }
      if (last && m.index === 1) throw new JobError(`U-Boot came back to its prompt after '${cmd}': the kernel did not start`);
    }
    ctx.log.info("kernel started");
    return shell.connection;
  }
}

/** LAVA's `uboot-commands` retry: reset-device, bootloader-interrupt, bootloader-commands, [auto-login], expect-shell-connection, [overlay-unpack]. */
export class UBootCommandsRetry extends RetryAction {
  static readonly name = "uboot-commands";
  static readonly description = "interactive uboot commands action";
  static readonly summary = "uboot commands";

  constructor(
    private readonly params: TBootUBoot,
    private readonly plan: CommandPlan,
  ) {
    super(params.failure_retry ?? 1);
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    pipeline.add(new ResetDeviceAction(), timeouts);
    pipeline.add(new BootloaderInterruptAction(this.params), timeouts);
    pipeline.add(new BootloaderCommandsAction(this.params, this.plan), timeouts);
    addShellActions(pipeline, this.params, timeouts);
    if (this.params.transfer_overlay) pipeline.add(new OverlayUnpackAction(this.params.transfer_overlay), timeouts);
  }
}

/**
 * `boot: method: u-boot` (LAVA's `uboot-action`): bootloader-overlay, connect-device, then
 * uboot-commands (retried `failure_retry` times): power-cycle the board, interrupt U-Boot, type the
 * commands with the TFTP locations of the deployed images, wait for the kernel and the prompt.
 * With `transfer_overlay`: compress-overlay first, overlay-unpack at the prompt.
 */
export class UBootAction extends Action {
  static readonly name = "uboot-action";
  static readonly description = "interactive uboot action";
  static readonly summary = "pass uboot commands";

  private readonly plan: CommandPlan = { commands: [] };

  constructor(
    private readonly params: TBootUBoot,
    private readonly stages: OverlayStage[] = [],
  ) {
    super();
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  override populate(timeouts: TJobTimeouts): void {
    this.pipeline = new Pipeline(this);
    if (this.params.transfer_overlay) this.pipeline.add(new CompressOverlayAction(this.stages), timeouts);
    this.pipeline.add(new BootloaderCommandOverlayAction(this.params, this.plan), timeouts);
    this.pipeline.add(new ConnectDeviceAction(), timeouts);
    this.pipeline.add(new UBootCommandsRetry(this.params, this.plan), timeouts);
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    return this.pipeline!.run(ctx, connection, deadlineMs, signal);
  }
}
