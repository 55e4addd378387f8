import { Action, type ActionRunOptions, type Connection } from "./action.ts";
import { ConfigurationError } from "../errors.ts";
import type { JobContext } from "./job.ts";
import { DEFAULT_POWER_COMMAND_TIMEOUT_S, runPowerCommand } from "../power/run-power-command.ts";

/** Budget of each power command of `ctx.device`, in ms. */
export function powerCommandTimeoutMs(ctx: JobContext): number {
  return (ctx.device.power_command_timeout_seconds ?? DEFAULT_POWER_COMMAND_TIMEOUT_S) * 1000;
}

/** Whether the device dictionary lets the worker switch the DUT on (or reset it). */
export function hasPowerControl(ctx: Pick<JobContext, "device">): boolean {
  const d = ctx.device;
  return !!(d.hard_reset_command || d.power_on_command);
}

/**
 * Resets the DUT, LAVA's `reset-device` / `pdu-reboot`: runs `hard_reset_command`; without one,
 * `power_off_command` (if any) then `power_on_command`. Leaves `ctx.poweredOn` set so finalize
 * powers the device off.
 * @throws ConfigurationError when the dictionary has no command to reset or power on the device;
 *   InfrastructureError when a command fails or times out (its output in the message and log)
 */
export async function resetDevice(ctx: JobContext, signal: AbortSignal): Promise<void> {
  const d = ctx.device;
  const timeoutMs = powerCommandTimeoutMs(ctx);
  ctx.poweredOn = true;
  if (d.hard_reset_command) {
    await runPowerCommand({ log: ctx.log, what: "hard_reset_command", command: d.hard_reset_command, timeoutMs, signal });
    return;
  }
  if (!d.power_on_command)
    throw new ConfigurationError(`device ${d.hostname} has neither hard_reset_command nor power_on_command: it cannot be reset`);
  if (d.power_off_command)
    await runPowerCommand({ log: ctx.log, what: "power_off_command", command: d.power_off_command, timeoutMs, signal });
  await runPowerCommand({ log: ctx.log, what: "power_on_command", command: d.power_on_command, timeoutMs, signal });
}

/** `reset-device` (LAVA): hard reset, or power off + power on; see {@link resetDevice}. */
export class ResetDeviceAction extends Action {
  static readonly name = "reset-device";
  static readonly description = "reboot or power-cycle the device";
  static readonly summary = "reboot the device";

  override async validate(ctx: JobContext): Promise<string[]> {
    return hasPowerControl(ctx)
      ? []
      : [`device ${ctx.device.hostname} has no hard_reset_command or power_on_command in its device dictionary`];
  }

  async run({ ctx, connection, signal }: ActionRunOptions): Promise<Connection> {
    // output from before the reset (an old shell, a previous boot) must not satisfy later prompts
    connection?.clear();
    await resetDevice(ctx, signal);
    return connection;
  }
}

/**
 * Runs `power_off_command` when the job powered the device on (finalize's `power-off`).
 * @throws InfrastructureError when the command fails or times out
 */
export async function powerOffDevice(ctx: JobContext, signal: AbortSignal): Promise<void> {
  const cmd = ctx.device.power_off_command;
  if (!ctx.poweredOn || !cmd) return;
  ctx.poweredOn = false;
  await runPowerCommand({ log: ctx.log, what: "power_off_command", command: cmd, timeoutMs: powerCommandTimeoutMs(ctx), signal });
}
