import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { TJobAction, TTransferOverlay } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { InfrastructureError, JobError } from "../../../errors.ts";
import { lavaDir, type JobContext } from "../../job.ts";
import { buildOverlayTarball, type OverlayStage } from "../../overlay.ts";
import { timeoutError } from "../../timeout.ts";
import { HttpFileServer } from "../../../services/http-file-server.ts";

/** File name of the overlay tarball: in the job directory, in its URL and on the DUT. */
export const OVERLAY_TARBALL = "overlay.tar.gz";

/** URL path the job's HTTP server serves the overlay at (LAVA: `http://<dispatcher>/tmp/<job>/…`). */
export function overlayUrlPath(jobId: number): string {
  return `/tmp/${jobId}/${OVERLAY_TARBALL}`;
}

/** Where DUTs fetch the overlay from: the job's `overlayHttp`, else the TFTP address (`{SERVER_IP}`). */
export function overlayHttpAddress(ctx: JobContext): { ip: string; bind: string; port: number } {
  const ip = ctx.overlayHttp?.ip ?? ctx.tftpBind.ip;
  return { ip, bind: ctx.overlayHttp?.bind ?? ip, port: ctx.overlayHttp?.port ?? 0 };
}

/** Whether a job definition has a boot action with `transfer_overlay` (then its test actions need no ramdisk). */
export function usesTransferOverlay(actions: readonly TJobAction[]): boolean {
  return actions.some((a) => "boot" in a && a.boot.method !== "qemu" && !!a.boot.transfer_overlay);
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

  async run({ ctx, connection }: ActionRunOptions): Promise<Connection> {
    const tarball = buildOverlayTarball({ jobId: ctx.jobId, stages: this.stages, environment: { LAVA_DISPATCHER_IP: overlayHttpAddress(ctx).ip }, ...(ctx.definition.secrets ? { secrets: ctx.definition.secrets } : {}) });
    const file = path.join(ctx.jobDir, OVERLAY_TARBALL);
    await writeFile(file, tarball);
    ctx.overlayTarballPath = file;
    ctx.log.debug(`Overlay tarball: ${file} (${tarball.length} bytes)`);
    this.results = { size: tarball.length };
    return connection;
  }
}

/**
 * LAVA's `overlay-unpack` (`transfer_overlay`): serves the overlay tarball from the job's HTTP
 * server (started here on a free port, closed by finalize) and, at the shell prompt, types
 * `rm -f overlay.tar.gz`, `<download_command> http://<ip>:<port>/tmp/<job>/overlay.tar.gz` and
 * `<unpack_command> overlay.tar.gz`, waiting for the prompt after each. Then checks that
 * `/lava-<id>/bin/lava-test-runner` exists: no download reaching the server → InfrastructureError
 * (the DUT cannot reach the worker); downloaded but not unpacked → JobError (the job's commands).
 */
export class OverlayUnpackAction extends Action {
  static readonly name = "overlay-unpack";
  static readonly description = "transfer and unpack overlay to persistent rootfs after login";
  static readonly summary = "transfer and unpack overlay";

  constructor(private readonly params: TTransferOverlay) {
    super();
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    if (!connection) throw new JobError("overlay-unpack has no DUT console: the DUT was not booted");
    const prompts = ctx.prompts;
    if (!prompts?.length) throw new JobError("overlay-unpack: no shell prompt known (boot action without prompts)");
    if (!ctx.overlayTarballPath) throw new JobError("No overlay file identified for the transfer.");
    const where = overlayHttpAddress(ctx);
    if (!ctx.http) {
      try {
        ctx.http = await HttpFileServer.start({ host: where.bind, port: where.port, onRequest: (m) => ctx.log.info(`http: ${m}`) });
      } catch (e) {
        throw new InfrastructureError(`cannot start the overlay HTTP server on ${where.bind}:${where.port}: ${(e as Error).message}`);
      }
      ctx.log.info(`HTTP server on ${where.bind}:${ctx.http.port} serving the job overlay`);
    }
    const urlPath = overlayUrlPath(ctx.jobId);
    ctx.http.publish(urlPath, ctx.overlayTarballPath);
    const url = `http://${where.ip}:${ctx.http.port}${urlPath}`;
    this.results = { url };

    const sig = AbortSignal.any([signal, ...(ctx.qemu ? [ctx.qemu.exited] : [])]);
    const onTimeout = () => timeoutError(this.name, deadlineMs - Date.now());
    const run = async (cmd: string) => {
      ctx.log.input(cmd);
      await connection.send(cmd);
      await connection.expect(prompts, deadlineMs, sig, onTimeout);
    };
    connection.clear();
    await connection.send("");
    await connection.expect(prompts, deadlineMs, sig, onTimeout);
    await run(`rm -f ${OVERLAY_TARBALL}`);
    await run(`${this.params.download_command} ${url}`);
    await run(`${this.params.unpack_command} ${OVERLAY_TARBALL}`);
    const runner = `${lavaDir(ctx.jobId)}/bin/lava-test-runner`;
    const check = `echo "MAGMA_OVERLAY_$([ -x ${runner} ] && echo OK || echo MISSING)"`;
    ctx.log.input(check);
    await connection.send(check);
    const m = await connection.expect([/MAGMA_OVERLAY_(OK|MISSING)/], deadlineMs, sig, onTimeout);
    await connection.expect(prompts, deadlineMs, sig, onTimeout);
    if (m.match[1] !== "OK") {
      if (!ctx.http.downloads(urlPath)) {
        throw new InfrastructureError(`the DUT did not download the overlay from ${url} (no request reached the worker's HTTP server): check that it can reach ${where.ip} and the download_command`);
      }
      throw new JobError(`the overlay was downloaded from ${url} but ${runner} is missing after '${this.params.unpack_command} ${OVERLAY_TARBALL}'`);
    }
    ctx.log.info(`Overlay unpacked: ${lavaDir(ctx.jobId)}`);
    return connection;
  }
}
