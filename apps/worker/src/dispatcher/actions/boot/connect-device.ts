import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import type { JobContext } from "../../job.ts";
import { connectDevice, consoleSpec } from "../../../connections/connect-device.ts";
import { LavaError } from "../../../errors.ts";
import { maskCommandCredentials } from "../../../mask-command.ts";
import { consoleLineSink } from "../shell/session.ts";

/**
 * Opens the device's console from its dictionary (LAVA's `connect-device`): `connection_command`
 * (`telnet HOST PORT` to ser2net, or any command) or `serial: {path, baud}`. Every line read is
 * logged as `target` and handed to the job's line listeners; losing and re-dialling the link is
 * logged. A console already open (a retry) is closed first.
 */
export class ConnectDeviceAction extends Action {
  static readonly name = "connect-device";
  static readonly description = "use the configured command to connect serial to the device";
  static readonly summary = "run connection command";

  override async validate(ctx: JobContext): Promise<string[]> {
    try {
      consoleSpec(ctx.device);
      return [];
    } catch (e) {
      return [e instanceof LavaError ? e.message : String(e)];
    }
  }

  async run({ ctx }: ActionRunOptions): Promise<Connection> {
    await ctx.console?.close();
    const spec = consoleSpec(ctx.device);
    ctx.log.info(
      `[common] connect-device Connecting to device using '${ctx.device.connection_command ? maskCommandCredentials(ctx.device.connection_command) : `serial ${spec.name}`}'`,
    );
    const console = await connectDevice(ctx.device, {
      onLine: consoleLineSink(ctx),
      onEvent: (msg, level) => (level === "warning" ? ctx.log.warning(msg) : ctx.log.info(msg)),
    });
    ctx.console = console;
    this.results = { connection: spec.name };
    return console;
  }

  override async cleanup(ctx: JobContext): Promise<void> {
    const c = ctx.console;
    ctx.console = undefined;
    await c?.close();
  }
}
