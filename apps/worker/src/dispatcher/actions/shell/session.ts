import type { ConsoleSession, ExpectMatch, ExpectPattern } from "../../../connections/console-session.ts";
import { JobError } from "../../../errors.ts";
import type { Action, ActionRunOptions } from "../../action.ts";
import type { JobContext } from "../../job.ts";
import { timeoutError } from "../../timeout.ts";

/**
 * The handler every console a job opens (QEMU's PTY, connect-device's link) feeds its lines to:
 * logs the line as a `target` record and hands it, with its job log line number, to the job's
 * line listeners (the test shell's signal parser), in that order.
 */
export function consoleLineSink(ctx: JobContext): (line: string) => void {
  return (line) => {
    const n = ctx.log.target(line);
    for (const l of ctx.lineListeners) l(line, n);
  };
}

export interface ShellSessionOptions {
  /** JobError message when the action has no console (no boot opened one). */
  noConsole: string;
  /** Also end every wait when the job's QEMU exits (default true; the bootloader actions of a board say false). */
  watchQemu?: boolean;
  /** More signals that end every wait with their reason (lava-test-shell's `lava-test-raise`). */
  signals?: AbortSignal[];
  /**
   * Duration named by the timeout message "<action> timed out after N seconds", in ms; default
   * what is left of the deadline when the wait times out.
   */
  timeoutMs?: number;
}

/**
 * One action's conversation with the DUT over its console, as LAVA's `ShellSession` (pexpect's
 * `sendline` / `expect` bound to the action's timeout): every wait ends at the action's absolute
 * deadline (with "<action> timed out after N seconds"), when the action's signal aborts (job
 * timeout, cancel) and, unless told otherwise, when the job's QEMU exits. Typed text is logged as
 * an `input` record before it is sent. Used by every boot method's shell actions
 * (auto-login-action, expect-shell-connection, overlay-unpack), the bootloader actions and
 * lava-test-shell.
 */
export class ShellSession {
  /** Aborts every wait of this session: the action's signal, QEMU's exit, the extra signals. */
  readonly signal: AbortSignal;
  private readonly onTimeout: () => Error;

  private constructor(
    private readonly ctx: JobContext,
    readonly connection: ConsoleSession,
    private readonly deadlineMs: number,
    signal: AbortSignal,
    onTimeout: () => Error,
  ) {
    this.signal = signal;
    this.onTimeout = onTimeout;
  }

  /**
   * The session of `action` over the connection it was given.
   * @throws JobError `options.noConsole` when there is no connection.
   */
  static forAction(action: Action, { ctx, connection, deadlineMs, signal }: ActionRunOptions, options: ShellSessionOptions): ShellSession {
    if (!connection) throw new JobError(options.noConsole);
    const signals = [signal, ...(options.signals ?? []), ...(options.watchQemu !== false && ctx.qemu ? [ctx.qemu.exited] : [])];
    const { timeoutMs } = options;
    const onTimeout = () => timeoutError(action.name, timeoutMs ?? deadlineMs - Date.now());
    return new ShellSession(ctx, connection, deadlineMs, signals.length === 1 ? signal : AbortSignal.any(signals), onTimeout);
  }

  /** Seconds left before the action's deadline, rounded, for log lines. */
  get secondsLeft(): number {
    return Math.round((this.deadlineMs - Date.now()) / 1000);
  }

  /**
   * Logs `shown` (default: the text itself; "********" for a password) as input, then types `text`
   * and a newline.
   * @throws InfrastructureError when the console is closed or the write fails.
   */
  async type(text: string, shown = text): Promise<void> {
    this.ctx.log.input(shown);
    await this.connection.send(text);
  }

  /**
   * Waits for one of `patterns` in the console output read since the last match.
   * @throws ActionTimeoutError at the deadline; the signal's reason when it aborts; InfrastructureError when the console is lost.
   */
  expect(patterns: ExpectPattern[]): Promise<ExpectMatch> {
    return this.connection.expect(patterns, this.deadlineMs, this.signal, this.onTimeout);
  }

  /** Types `command` (see {@link type}) and waits for one of `patterns` (see {@link expect}). */
  async run(command: string, patterns: ExpectPattern[]): Promise<ExpectMatch> {
    await this.type(command);
    return this.expect(patterns);
  }
}
