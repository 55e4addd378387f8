import { execFile } from "node:child_process";
import { parse as shellParse } from "shell-quote";
import { checkQemuJobArgs, ZQemuSettings, type TAutoLogin, type TBootQemu, type TJobTimeouts, type TQemuSettings } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { ConfigurationError, InfrastructureError, JobError } from "../../../errors.ts";
import type { JobContext } from "../../job.ts";
import { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { timeoutError } from "../../timeout.ts";
import { SerialConsole, promptRegExp } from "../../../connections/serial-port.ts";
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
 * The QEMU command line: the device dictionary's settings (binary, machine, memory, smp, cpu,
 * extra options), {@link QEMU_FIXED_OPTIONS}, then each image's `image_arg` with `{<image name>}`
 * placeholders replaced by the image's local path (LAVA's qemu.jinja2 + `image_arg` substitution).
 * Each `image_arg` is checked again against the job allow-list (`checkQemuJobArgs`: -kernel,
 * -initrd, -dtb, -bios {placeholder}, -append, -drive file={placeholder},format=raw, -cpu, -smp, -m)
 * right before QEMU is spawned, whatever the submission checked: LAVA passes it through unchecked.
 * @throws JobError naming the refused option (e.g. "QEMU option '-chardev' is not allowed in
 *   image_arg of 'kernel'"), or an image_arg naming an image that was not deployed.
 */
export function buildQemuCommand(settings: TQemuSettings, images: ReadonlyMap<string, string>, imageArgs: ReadonlyMap<string, string>): string[] {
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

/** `<binary> --version` first line, or undefined when it cannot run (missing binary). */
function qemuVersion(binary: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ["--version"], { timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout.split("\n")[0]?.trim()));
  });
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
    if (!parsed.success) return [`device dictionary of ${ctx.device.hostname}: invalid qemu settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`];
    const version = await qemuVersion(parsed.data.binary);
    if (!version) return [`QEMU binary '${parsed.data.binary}' cannot be run on worker ${ctx.workerName}`];
    ctx.log.info(`${version}, host architecture: ${process.arch}`);
    return [];
  }

  async run({ ctx, signal }: ActionRunOptions): Promise<Connection> {
    const parsed = ZQemuSettings.safeParse(ctx.device.qemu ?? {});
    if (!parsed.success) throw new ConfigurationError(`invalid qemu settings in the device dictionary of ${ctx.device.hostname}`);
    const cmd = buildQemuCommand(parsed.data, ctx.images, ctx.imageArgs);
    ctx.log.info(`Boot command: ${displayCommand(cmd)}`);
    const qemu = QemuProcess.spawn(cmd);
    ctx.qemu = qemu;
    ctx.log.info(`started QEMU (pid ${qemu.pid ?? "?"})`);
    const pty = await qemu.ptyPath(signal);
    ctx.log.debug(`guest console on ${pty}`);
    const console = await SerialConsole.open(pty, {
      onLine: (line) => {
        const n = ctx.log.target(line);
        for (const l of ctx.lineListeners) l(line, n);
      },
    });
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

/** `auto_login`: waits for the login prompt, types the username (and password), as LAVA's `auto-login-action`. */
export class AutoLoginAction extends Action {
  static readonly name = "auto-login-action";
  static readonly description = "automatically login after boot using job parameters and checking for messages.";
  static readonly summary = "Auto-login after boot with support for kernel messages.";

  constructor(private readonly params: { auto_login?: TAutoLogin | undefined; prompts: string[] }) {
    super();
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    const login = this.params.auto_login;
    if (!connection || !login) return connection;
    const sig = AbortSignal.any([signal, ...(ctx.qemu ? [ctx.qemu.exited] : [])]);
    const onTimeout = () => timeoutError(this.name, deadlineMs - Date.now());
    ctx.log.debug(`${this.name}: Wait for prompt ['${login.login_prompt}']`);
    await connection.expect([promptRegExp(login.login_prompt)], deadlineMs, sig, onTimeout);
    ctx.log.input(login.username);
    await connection.send(login.username);
    if (login.password_prompt && login.password !== undefined) {
      await connection.expect([promptRegExp(login.password_prompt)], deadlineMs, sig, onTimeout);
      ctx.log.input("********");
      await connection.send(login.password);
    }
    for (const cmd of login.login_commands ?? []) {
      await connection.expect(this.params.prompts.map(promptRegExp), deadlineMs, sig, onTimeout);
      ctx.log.input(cmd);
      await connection.send(cmd);
    }
    return connection;
  }
}

/** Waits for one of the boot's `prompts` (LAVA's `expect-shell-connection`). */
export class ExpectShellConnectionAction extends Action {
  static readonly name = "expect-shell-connection";
  static readonly description = "Wait for a shell";
  static readonly summary = "Expect a shell prompt";

  constructor(private readonly prompts: string[]) {
    super();
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    if (!connection) throw new JobError("no console to wait for a shell prompt on: the boot did not open a connection");
    const prompts = this.prompts.map(promptRegExp);
    ctx.log.debug(`${this.name}: Wait for prompt ${JSON.stringify(this.prompts)} (timeout ${Math.round((deadlineMs - Date.now()) / 1000)}s)`);
    const sig = AbortSignal.any([signal, ...(ctx.qemu ? [ctx.qemu.exited] : [])]);
    try {
      await connection.expect(prompts, deadlineMs, sig, () => timeoutError(this.name, deadlineMs - Date.now()));
    } catch (e) {
      if (e instanceof InfrastructureError && ctx.qemu && !signal.aborted) {
        // the console closing first is a symptom: report QEMU's own exit when that is the cause
        const exit = await ctx.qemu.exitReasonWithin(1000);
        throw exit ?? new InfrastructureError(`${e.message}; QEMU output: ${ctx.qemu.stderrTail() || "(empty)"}`);
      }
      throw e;
    }
    ctx.prompts = prompts;
    return connection;
  }
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
    if (this.params.auto_login) pipeline.add(new AutoLoginAction(this.params), timeouts);
    pipeline.add(new ExpectShellConnectionAction(this.params.prompts), timeouts);
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    return this.pipeline!.validate(ctx);
  }
}
