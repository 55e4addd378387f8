import type { TBootMinimal, TJobTimeouts } from "@magma/protocol";
import type { JobContext } from "../../job.ts";
import type { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { hasPowerControl, ResetDeviceAction } from "../../power.ts";
import { ConnectDeviceAction } from "./connect-device.ts";
import { addShellActions } from "../shell/expect-shell.ts";
import type { OverlayStage } from "../../overlay.ts";
import { CompressOverlayAction } from "../deploy/compress-overlay.ts";
import { OverlayUnpackAction } from "./overlay-unpack.ts";

/**
 * `boot: method: minimal` (LAVA's `minimal-boot`): connect-device; reset-device when the device
 * dictionary has power commands and the job does not say `reset: false`; [auto-login-action];
 * expect-shell-connection; with `transfer_overlay`, compress-overlay first and overlay-unpack last
 * (the DUT downloads the test overlay from the worker over HTTP). Retried `failure_retry` times.
 */
export class MinimalBootAction extends RetryAction {
  static readonly name = "minimal-boot";
  static readonly description = "connect and reset device";
  static readonly summary = "connect and reset device";

  constructor(
    private readonly params: TBootMinimal,
    private readonly powered: boolean,
    private readonly stages: OverlayStage[] = [],
  ) {
    super(params.failure_retry ?? 1);
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    if (this.params.transfer_overlay) pipeline.add(new CompressOverlayAction(this.stages), timeouts);
    pipeline.add(new ConnectDeviceAction(), timeouts);
    if (this.params.reset !== false && this.powered) pipeline.add(new ResetDeviceAction(), timeouts);
    addShellActions(pipeline, this.params, timeouts);
    if (this.params.transfer_overlay) pipeline.add(new OverlayUnpackAction(this.params.transfer_overlay), timeouts);
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    const out = await this.pipeline!.validate(ctx);
    if (this.params.reset === true && !hasPowerControl(ctx))
      out.push(`boot minimal asks for reset: true but device ${ctx.device.hostname} has no power commands`);
    return out;
  }
}
