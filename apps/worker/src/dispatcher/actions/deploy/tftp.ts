import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { TDeployTftp, TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { InfrastructureError } from "../../errors.ts";
import type { JobContext } from "../../job.ts";
import type { OverlayStage } from "../../overlay.ts";
import { Pipeline } from "../../pipeline.ts";
import { TftpServer } from "../../../services/tftp-server.ts";
import { ApplyOverlayInitrdAction, HttpDownloadAction, LavaOverlayAction } from "./tmpfs.ts";

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
      ctx.tftp = await TftpServer.start({ root, host: ctx.tftpBind.ip, port: ctx.tftpBind.port, onTransfer: (m) => ctx.log.info(`tftp: ${m}`) });
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
 * TFTP server the board loads them from.
 */
export class TftpDeployAction extends Action {
  static readonly name = "tftp-deploy";
  static readonly description = "download files and deploy using tftp";
  static readonly summary = "tftp deployment";

  constructor(private readonly params: TDeployTftp, private readonly stages: OverlayStage[]) {
    super();
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  override populate(timeouts: TJobTimeouts): void {
    this.pipeline = new Pipeline(this);
    for (const name of TFTP_IMAGES) {
      const image = this.params[name];
      if (image) this.pipeline.add(new HttpDownloadAction(name, image, TFTP_SUBDIR), timeouts);
    }
    if (this.stages.length && this.params.ramdisk) {
      this.pipeline.add(new LavaOverlayAction(this.stages), timeouts);
      this.pipeline.add(new ApplyOverlayInitrdAction("ramdisk", path.join(TFTP_SUBDIR, "ramdisk-overlay")), timeouts);
    }
    this.pipeline.add(new TftpServeAction(), timeouts);
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    const out = await super.validate(ctx);
    if (this.stages.length && !this.params.ramdisk) out.push("the job has test actions but the tftp deploy has no 'ramdisk' to carry the test overlay");
    return out;
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    ctx.images.clear();
    ctx.imageArgs.clear();
    return this.pipeline!.run(ctx, connection, deadlineMs, signal);
  }
}
