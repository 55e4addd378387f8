import type { TJobAction, TTransferOverlay } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { InfrastructureError, JobError } from "../../../errors.ts";
import { lavaDir } from "../../job.ts";
import { HttpFileServer } from "../../../services/http-file-server.ts";
import { OVERLAY_TARBALL, overlayHttpAddress } from "../deploy/compress-overlay.ts";
import { ShellSession } from "../shell/session.ts";

/** URL path the job's HTTP server serves the overlay at (LAVA: `http://<dispatcher>/tmp/<job>/…`). */
export function overlayUrlPath(jobId: number): string {
  return `/tmp/${jobId}/${OVERLAY_TARBALL}`;
}

/** Whether a job definition has a boot action with `transfer_overlay` (then its test actions need no ramdisk). */
export function usesTransferOverlay(actions: readonly TJobAction[]): boolean {
  return actions.some((a) => "boot" in a && a.boot.method !== "qemu" && !!a.boot.transfer_overlay);
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

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx } = options;
    const shell = ShellSession.forAction(this, options, { noConsole: "overlay-unpack has no DUT console: the DUT was not booted" });
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

    const { connection } = shell;
    connection.clear();
    // a bare newline (not logged) to get a fresh prompt
    await connection.send("");
    await shell.expect(prompts);
    await shell.run(`rm -f ${OVERLAY_TARBALL}`, prompts);
    await shell.run(`${this.params.download_command} ${url}`, prompts);
    await shell.run(`${this.params.unpack_command} ${OVERLAY_TARBALL}`, prompts);
    const runner = `${lavaDir(ctx.jobId)}/bin/lava-test-runner`;
    const check = `echo "MAGMA_OVERLAY_$([ -x ${runner} ] && echo OK || echo MISSING)"`;
    const m = await shell.run(check, [/MAGMA_OVERLAY_(OK|MISSING)/]);
    await shell.expect(prompts);
    if (m.match[1] !== "OK") {
      if (!ctx.http.downloads(urlPath)) {
        throw new InfrastructureError(
          `the DUT did not download the overlay from ${url} (no request reached the worker's HTTP server): check that it can reach ${where.ip} and the download_command`,
        );
      }
      throw new JobError(
        `the overlay was downloaded from ${url} but ${runner} is missing after '${this.params.unpack_command} ${OVERLAY_TARBALL}'`,
      );
    }
    ctx.log.info(`Overlay unpacked: ${lavaDir(ctx.jobId)}`);
    return connection;
  }
}
