import { appendFile, copyFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { JobError } from "../../../errors.ts";

/**
 * Appends the overlay to a copy of the initramfs (the kernel unpacks concatenated gzip'd cpio
 * archives): no disk image, no libguestfs. The `initrd` image then points at the copy.
 */
export class ApplyOverlayInitrdAction extends Action {
  static readonly name = "apply-overlay-initrd";
  static readonly description = "append the lava overlay to the initramfs";
  static readonly summary = "apply overlay to the initrd";

  /**
   * @param initrdName the image carrying the initramfs
   * @param subdir where under the job directory the copy is written (`boot`; a TFTP deploy keeps it under its TFTP root)
   */
  constructor(
    private readonly initrdName: string,
    private readonly subdir = "boot",
  ) {
    super();
  }

  async run({ ctx, connection }: ActionRunOptions): Promise<Connection> {
    const initrd = ctx.images.get(this.initrdName);
    if (!initrd) throw new JobError(`image '${this.initrdName}' was not downloaded`);
    if (!ctx.overlayPath) throw new JobError("no overlay was built");
    const out = path.join(ctx.jobDir, this.subdir, path.basename(initrd));
    await mkdir(path.dirname(out), { recursive: true });
    await copyFile(initrd, out);
    await appendFile(out, await readFile(ctx.overlayPath));
    ctx.log.info(`Overlay: appended ${ctx.overlayPath} to ${out}`);
    ctx.images.set(this.initrdName, out);
    return connection;
  }
}
