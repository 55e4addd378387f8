import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { TDeployTftp, TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { InfrastructureError } from "../../../errors.ts";
import type { JobContext } from "../../job.ts";
import type { OverlayStage } from "../../overlay.ts";
import type { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { TftpServer } from "../../../services/tftp-server.ts";
import { usesTransferOverlay } from "../boot/overlay-unpack.ts";
import { ApplyOverlayInitrdAction } from "./apply-overlay.ts";
import { HttpDownloadAction } from "./download.ts";
import { LavaOverlayAction } from "./overlay.ts";

/** Sub-directory of the job directory served over TFTP. */
export const TFTP_SUBDIR = "tftp";
/** Images a `to: tftp` deploy may carry, in download order. */
export const TFTP_IMAGES = ["kernel", "ramdisk", "dtb"] as const;

/** Path of a deployed image relative to the job's TFTP root (what `{KERNEL}` etc. become). */
export function tftpRelativePath(ctx: JobContext, imageName: string): string | undefined {
  const file = ctx.images.get(imageName);
  return file ? path.relative(path.join(ctx.jobDir, TFTP_SUBDIR), file).split(path.sep).join("/") : undefined;
}

/**
 * Starts the job's TFTP server on `ctx.tftpBind` serving `<jobDir>/tftp` (LAVA workers have
 * tftpd-hpa serve `/srv/tftp/<job>/…`; Magma serves each job on its own port, `{TFTP_PORT}` in the
 * boot commands). Every transfer is logged. Finalize closes it.
 * @throws InfrastructureError when the address cannot be bound
 */
export class TftpServeAction extends Action {
  static readonly name = "tftp-serve";
  static readonly description = "serve the deployed images over TFTP";
  static readonly summary = "start the job's TFTP server";

  async run({ ctx, connection }: ActionRunOptions): Promise<Connection> {
    const root = path.join(ctx.jobDir, TFTP_SUBDIR);
    await mkdir(root, { recursive: true });
    await ctx.tftp?.close();
    try {
      ctx.tftp = await TftpServer.start({
        root,
        host: ctx.tftpBind.ip,
        port: ctx.tftpBind.port,
        onTransfer: (m) => ctx.log.info(`tftp: ${m}`),
      });
    } catch (e) {
      throw new InfrastructureError(`cannot start the TFTP server on ${ctx.tftpBind.ip}:${ctx.tftpBind.port}: ${(e as Error).message}`);
    }
    ctx.log.info(`TFTP server on ${ctx.tftpBind.ip}:${ctx.tftp.port} serving ${root}`);
    this.results = { server_ip: ctx.tftpBind.ip, port: ctx.tftp.port };
    return connection;
  }
}

/**
 * `deploy: to: tftp` (LAVA's `tftp-deploy`): downloads `kernel`, `ramdisk`, `dtb` under the job's
 * TFTP root, appends the test overlay to the ramdisk when the job has test actions, and starts the
 * TFTP server the board loads them from. The whole deploy is retried `failure_retry` times (a
 * flaky image server), never past its deadline.
 */
export class TftpDeployAction extends RetryAction {
  static readonly name = "tftp-deploy";
  static readonly description = "download files and deploy using tftp";
  static readonly summary = "tftp deployment";

  constructor(
    private readonly params: TDeployTftp,
    private readonly stages: OverlayStage[],
  ) {
    super(params.failure_retry ?? 1);
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    for (const name of TFTP_IMAGES) {
      const image = this.params[name];
      if (image) pipeline.add(new HttpDownloadAction(name, image, TFTP_SUBDIR), timeouts);
    }
    if (this.stages.length && this.params.ramdisk) {
      pipeline.add(new LavaOverlayAction(this.stages), timeouts);
      pipeline.add(new ApplyOverlayInitrdAction("ramdisk", path.join(TFTP_SUBDIR, "ramdisk-overlay")), timeouts);
    }
    pipeline.add(new TftpServeAction(), timeouts);
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    const out = await super.validate(ctx);
    if (this.stages.length && !this.params.ramdisk && !usesTransferOverlay(ctx.definition.actions))
      out.push(
        "the job has test actions but the tftp deploy has no 'ramdisk' to carry the test overlay (nor a boot with 'transfer_overlay')",
      );
    return out;
  }

  override async run(options: ActionRunOptions): Promise<Connection> {
    options.ctx.images.clear();
    options.ctx.imageArgs.clear();
    return super.run(options);
  }
}
