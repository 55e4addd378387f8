import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parse as shellParse } from "shell-quote";
import {
  checkQemuJobArgs,
  QEMU_ARCH_BINARY,
  ZQemuSettings,
  type TBootQemu,
  type TJobContext,
  type TJobTimeouts,
  type TQemuSettings,
} from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { ConfigurationError, JobError } from "../../../errors.ts";
import { executableSearchPath } from "../../../env.ts";
import type { JobContext } from "../../job.ts";
import { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { SerialConsole } from "../../../connections/serial-port.ts";
import { addShellActions } from "../shell/expect-shell.ts";
import { consoleLineSink } from "../shell/session.ts";
import { QemuProcess } from "./qemu-process.ts";

/** Options Magma always adds: no display or monitor, the guest serial port on a PTY, exit on reboot. TCG only (no -enable-kvm). */
export const QEMU_FIXED_OPTIONS = ["-display", "none", "-monitor", "none", "-serial", "pty", "-no-reboot"];

/**
 * Splits a command-line fragment like a shell would (shell-quote), refusing shell operators.
 * @throws JobError naming `what` when the text holds operators (`;`, `|`, `>`…) or globs.
 */
export function splitArgs(text: string, what: string): string[] {
  return shellParse(text).map((t) => {
    if (typeof t !== "string") throw new JobError(`${what} must be plain arguments, got shell syntax in: ${text}`);
    return t;
  });
}

/**
 * The device dictionary's QEMU settings with the job's `context:` applied, as LAVA's qemu.jinja2
 * does: `machine`, `cpu`, `memory` (MB), `cpus` replace the dictionary's values; `extra_options`
 * (checked against the job allow-list again) come after the dictionary's own; `arch` must be what
 * the device's emulator runs (LAVA picks `qemu-system-<arch>`; here the lab's dictionary names the
 * binary, so another arch is the job's mistake).
 * @throws JobError naming the context key that cannot be applied
 */
export function applyJobContext(settings: TQemuSettings, context: TJobContext | undefined, hostname: string): TQemuSettings {
  if (!context) return settings;
  if (context.arch) {
    const want = QEMU_ARCH_BINARY[context.arch]!;
    if (path.basename(settings.binary) !== want) {
      throw new JobError(`context arch '${context.arch}' needs ${want}, but device ${hostname} runs ${path.basename(settings.binary)}`);
    }
  }
  const extra = (context.extra_options ?? []).map((opt, k) => {
    const checked = checkQemuJobArgs(opt, `context extra_options[${k}]`);
    if (!checked.ok) throw new JobError(checked.message);
    return opt;
  });
  return {
    ...settings,
    ...(context.machine ? { machine: context.machine } : {}),
    ...(context.cpu ? { cpu: context.cpu } : {}),
    ...(context.memory ? { memory_mb: context.memory } : {}),
    ...(context.cpus ? { smp: context.cpus } : {}),
    extra_options: [...settings.extra_options, ...extra],
  };
}

/**
 * The QEMU command line: the device dictionary's settings (binary, machine, memory, smp, cpu,
 * extra options), {@link QEMU_FIXED_OPTIONS}, then each image's `image_arg` with `{<image name>}`
 * placeholders replaced by the image's local path (LAVA's qemu.jinja2 + `image_arg` substitution).
 * Each `image_arg` is checked again against the job allow-list (`checkQemuJobArgs`: -kernel,
 * -initrd, -dtb, -bios {placeholder}, -append, -drive file={placeholder},format=raw, -cpu, -smp, -m)
 * right before QEMU is spawned, whatever the submission checked: LAVA passes it through unchecked.
 * @throws JobError naming the refused option (e.g. "QEMU option '-chardev' is not allowed in
 *   image_arg of 'kernel'"), or an image_arg naming an image that was not deployed.
 */
export function buildQemuCommand(
  settings: TQemuSettings,
  images: ReadonlyMap<string, string>,
  imageArgs: ReadonlyMap<string, string>,
): string[] {
  const cmd = [settings.binary, "-machine", settings.machine, "-m", String(settings.memory_mb), "-smp", String(settings.smp)];
  if (settings.cpu) cmd.push("-cpu", settings.cpu);
  for (const opt of settings.extra_options) cmd.push(...splitArgs(opt, "qemu extra_options"));
  cmd.push(...QEMU_FIXED_OPTIONS);
  for (const [name, arg] of imageArgs) {
    const checked = checkQemuJobArgs(arg, `image_arg of '${name}'`);
    if (!checked.ok) throw new JobError(checked.message);
    for (const token of checked.words) {
      cmd.push(
        token.replace(/\{([A-Za-z0-9_-]+)\}/g, (_m, key: string) => {
          const p = images.get(key);
          if (!p) throw new JobError(`image_arg of '${name}' refers to {${key}}, which is not a deployed image`);
          return p;
        }),
      );
    }
  }
  return cmd;
}

/** Quotes a command for the log, so it can be pasted into a shell. */
function displayCommand(cmd: string[]): string {
  return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** `--version` lines already read, by the binary's resolved path, inode, size and mtime. */
const versionCache = new Map<string, string>();

/**
 * Where `binary` resolves (as a path, or on PATH) with its identity, or undefined when no
 * executable file is found there (then the caller runs it anyway, to get its error).
 */
async function binaryIdentity(binary: string): Promise<string | undefined> {
  const candidates = binary.includes("/") ? [path.resolve(binary)] : executableSearchPath().map((d) => path.join(d, binary));
  for (const c of candidates) {
    try {
      const st = await stat(c);
      if (st.isFile() && st.mode & 0o111) return `${c}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // not there: the next PATH entry
    }
  }
  return undefined;
}

/**
 * `<binary> --version` first line, or undefined when it cannot run (missing binary). Read once per
 * binary file and kept while that file is unchanged (same inode, size and mtime): running QEMU
 * only to print its version took 100–200 ms of every job's validate stage under TCG on 2 cores.
 */
export async function qemuVersion(binary: string): Promise<string | undefined> {
  const id = await binaryIdentity(binary);
  const known = id === undefined ? undefined : versionCache.get(id);
  if (known !== undefined) return known;
  const version = await new Promise<string | undefined>((resolve) => {
    execFile(binary, ["--version"], { timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout.split("\n")[0]?.trim()));
  });
  if (id !== undefined && version !== undefined) versionCache.set(id, version);
  return version;
}

/**
 * Starts QEMU (LAVA's `execute-qemu`) in its own process group, reads the guest console PTY from
 * its stderr and opens it with serialport; every console line is logged as `target` and handed to
 * the job's line listeners. QEMU dying before the PTY appears → InfrastructureError with its stderr.
 */
export class ExecuteQemuAction extends Action {
  static readonly name = "execute-qemu";
  static readonly description = "call qemu to boot the image";
  static readonly summary = "execute qemu to boot the image";

  override async validate(ctx: JobContext): Promise<string[]> {
    const parsed = ZQemuSettings.safeParse(ctx.device.qemu ?? {});
    if (!parsed.success)
      return [
        `device dictionary of ${ctx.device.hostname}: invalid qemu settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
      ];
    const version = await qemuVersion(parsed.data.binary);
    if (!version) return [`QEMU binary '${parsed.data.binary}' cannot be run on worker ${ctx.workerName}`];
    ctx.log.info(`${version}, host architecture: ${process.arch}`);
    return [];
  }

  async run({ ctx, signal }: ActionRunOptions): Promise<Connection> {
    const parsed = ZQemuSettings.safeParse(ctx.device.qemu ?? {});
    if (!parsed.success) throw new ConfigurationError(`invalid qemu settings in the device dictionary of ${ctx.device.hostname}`);
    const cmd = buildQemuCommand(applyJobContext(parsed.data, ctx.definition.context, ctx.device.hostname), ctx.images, ctx.imageArgs);
    ctx.log.info(`Boot command: ${displayCommand(cmd)}`);
    const qemu = QemuProcess.spawn(cmd);
    ctx.qemu = qemu;
    ctx.log.info(`started QEMU (pid ${qemu.pid ?? "?"})`);
    const pty = await qemu.ptyPath(signal);
    ctx.log.debug(`guest console on ${pty}`);
    const console = await SerialConsole.open(pty, { onLine: consoleLineSink(ctx) });
    ctx.console = console;
    this.results = { pty };
    return console;
  }

  override async cleanup(ctx: JobContext): Promise<void> {
    await powerOff(ctx);
  }
}

/**
 * Closes the console and powers QEMU off (SIGTERM, SIGKILL after 5 s); idempotent. Devices switched
 * on by a power command are switched off by finalize (`powerOffDevice`), not here.
 */
export async function powerOff(ctx: JobContext): Promise<void> {
  const { console, qemu } = ctx;
  ctx.console = undefined;
  ctx.qemu = undefined;
  if (qemu) {
    await qemu.stop();
    ctx.log.debug(`QEMU powered off (exit code ${qemu.exitCode ?? "none"})`);
  }
  await console?.close();
}

/** `boot: method: qemu` (LAVA's `boot-image-retry`): execute-qemu, [auto-login-action], expect-shell-connection. */
export class BootQemuRetry extends RetryAction {
  static readonly name = "boot-image-retry";
  static readonly description = "boot image with retry";
  static readonly summary = "boot with retry";

  constructor(private readonly params: TBootQemu) {
    super(params.failure_retry ?? 1);
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    pipeline.add(new ExecuteQemuAction(), timeouts);
    addShellActions(pipeline, this.params, timeouts);
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    return this.pipeline!.validate(ctx);
  }
}
