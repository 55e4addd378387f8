import type { TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../action.ts";
import { Pipeline } from "../pipeline.ts";
import { powerOff } from "./boot/qemu.ts";
import { powerOffDevice } from "../power.ts";

/** Power-off's own duration, in ms (LAVA: 10 s), unless `timeouts.actions.power-off` says otherwise. */
export const POWER_OFF_TIMEOUT_MS = 10_000;

/**
 * Powers the DUT off (LAVA `power-off`): closes the console, SIGTERM then SIGKILL to QEMU's process
 * group, runs the dictionary's `power_off_command` when a power command switched the device on,
 * and stops the job's TFTP and HTTP servers.
 * @throws InfrastructureError when `power_off_command` fails (after everything else was released)
 */
export class PowerOffAction extends Action {
  static readonly name = "power-off";
  static readonly description = "discontinue power to device";
  static readonly summary = "send power_off command";

  constructor() {
    super();
    this.fixedTimeoutMs = POWER_OFF_TIMEOUT_MS;
  }

  async run({ ctx, signal }: ActionRunOptions): Promise<Connection> {
    if (!ctx.qemu && !ctx.console && !ctx.poweredOn) ctx.log.debug("No connection to power off");
    await powerOff(ctx);
    const tftp = ctx.tftp;
    ctx.tftp = undefined;
    await tftp?.close();
    const http = ctx.http;
    ctx.http = undefined;
    await http?.close();
    await powerOffDevice(ctx, signal);
    return undefined;
  }
}

/** Last action of every job, run whether the job passed or failed (LAVA `finalize`). */
export class FinalizeAction extends Action {
  static readonly name = "finalize";
  static readonly description = "finish the process and cleanup";
  static readonly summary = "finalize the job";

  override populate(timeouts: TJobTimeouts): void {
    this.pipeline = new Pipeline(this);
    this.pipeline.add(new PowerOffAction(), timeouts);
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    return this.pipeline!.run(ctx, connection, deadlineMs, signal);
  }
}
