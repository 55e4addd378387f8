import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import type { JobContext } from "../../job.ts";
import { buildOverlayTarball, type OverlayStage } from "../../overlay.ts";
import { prepareOverlay } from "./overlay.ts";

/** File name of the overlay tarball: in the job directory, in its URL and on the DUT. */
export const OVERLAY_TARBALL = "overlay.tar.gz";

/** Where DUTs fetch the overlay from: the job's `overlayHttp`, else the TFTP address (`{SERVER_IP}`). */
export function overlayHttpAddress(ctx: JobContext): { ip: string; bind: string; port: number } {
  const ip = ctx.overlayHttp?.ip ?? ctx.tftpBind.ip;
  return { ip, bind: ctx.overlayHttp?.bind ?? ip, port: ctx.overlayHttp?.port ?? 0 };
}

/**
 * Builds the job overlay as a gzip'd tarball, `<jobDir>/overlay.tar.gz` (LAVA's `compress-overlay`),
 * for `transfer_overlay` to download: the same `/lava-<id>` tree a ramdisk overlay carries.
 */
export class CompressOverlayAction extends Action {
  static readonly name = "compress-overlay";
  static readonly description = "Create a lava overlay tarball and store alongside the job";
  static readonly summary = "Compress the lava overlay files";

  constructor(private readonly stages: OverlayStage[]) {
    super();
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    const tarball = buildOverlayTarball(
      await prepareOverlay(ctx, this.stages, { deadlineMs, signal, dispatcherIp: overlayHttpAddress(ctx).ip }),
    );
    const file = path.join(ctx.jobDir, OVERLAY_TARBALL);
    await writeFile(file, tarball);
    ctx.overlayTarballPath = file;
    ctx.log.debug(`Overlay tarball: ${file} (${tarball.length} bytes)`);
    this.results = { size: tarball.length };
    return connection;
  }
}
