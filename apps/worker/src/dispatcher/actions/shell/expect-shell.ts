import type { TJobTimeouts } from "@magma/protocol";
import { promptRegExp } from "../../../connections/console-session.ts";
import { InfrastructureError } from "../../../errors.ts";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import type { Pipeline } from "../../pipeline.ts";
import { AutoLoginAction, type AutoLoginParams } from "./auto-login.ts";
import { ShellSession } from "./session.ts";

/**
 * Waits for one of the boot's `prompts` (LAVA's `expect-shell-connection`) and records them in
 * `ctx.prompts` for the actions that type at the shell afterwards (overlay-unpack, lava-test-shell).
 * When the console is lost while the job's QEMU is dying, QEMU's own exit is reported instead.
 * @throws JobError without a console; ActionTimeoutError when no prompt comes before the deadline;
 *   InfrastructureError when the console or QEMU goes away
 */
export class ExpectShellConnectionAction extends Action {
  static readonly name = "expect-shell-connection";
  static readonly description = "Wait for a shell";
  static readonly summary = "Expect a shell prompt";

  constructor(private readonly prompts: string[]) {
    super();
  }

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx, signal } = options;
    const shell = ShellSession.forAction(this, options, {
      noConsole: "no console to wait for a shell prompt on: the boot did not open a connection",
    });
    const prompts = this.prompts.map(promptRegExp);
    ctx.log.debug(`${this.name}: Wait for prompt ${JSON.stringify(this.prompts)} (timeout ${shell.secondsLeft}s)`);
    try {
      await shell.expect(prompts);
    } catch (e) {
      if (e instanceof InfrastructureError && ctx.qemu && !signal.aborted) {
        // the console closing first is a symptom: report QEMU's own exit when that is the cause
        const exit = await ctx.qemu.exitReasonWithin(1000);
        throw exit ?? new InfrastructureError(`${e.message}; QEMU output: ${ctx.qemu.stderrTail() || "(empty)"}`);
      }
      throw e;
    }
    ctx.prompts = prompts;
    return shell.connection;
  }
}

/**
 * Adds the shell actions every boot method ends with, after whatever brought the DUT up (LAVA's
 * boot actions each add them): auto-login-action when the boot has `auto_login`, then
 * expect-shell-connection on its `prompts`.
 */
export function addShellActions(pipeline: Pipeline, params: AutoLoginParams, timeouts: TJobTimeouts): void {
  if (params.auto_login) pipeline.add(new AutoLoginAction(params), timeouts);
  pipeline.add(new ExpectShellConnectionAction(params.prompts), timeouts);
}
