import type { TDeployImage, TDeployTmpfs, TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import type { JobContext } from "../../job.ts";
import type { OverlayStage } from "../../overlay.ts";
import { Pipeline } from "../../pipeline.ts";
import { ApplyOverlayInitrdAction } from "./apply-overlay.ts";
import { HttpDownloadAction } from "./download.ts";
import { LavaOverlayAction } from "./overlay.ts";

/** Names under which an image carries the initramfs (and so the test overlay). */
export function initrdImageName(images: Record<string, TDeployImage>): string | undefined {
  return (
    Object.keys(images).find((n) => n === "initrd" || n === "ramdisk") ??
    Object.entries(images).find(([, i]) => /-initrd\b/.test(i.image_arg ?? ""))?.[0]
  );
}

/**
 * `deploy: to: tmpfs` (LAVA's `deployimages`): downloads every image, then, when the job has test
 * actions, builds the overlay and appends it to the initrd.
 */
export class DeployImagesAction extends Action {
  static readonly name = "deployimages";
  static readonly description = "deploy images using guestfs";
  static readonly summary = "deploy images";

  constructor(
    private readonly params: TDeployTmpfs,
    private readonly stages: OverlayStage[],
  ) {
    super();
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  override populate(timeouts: TJobTimeouts): void {
    this.pipeline = new Pipeline(this);
    for (const [name, image] of Object.entries(this.params.images)) this.pipeline.add(new HttpDownloadAction(name, image), timeouts);
    const initrd = initrdImageName(this.params.images);
    if (this.stages.length && initrd) {
      this.pipeline.add(new LavaOverlayAction(this.stages), timeouts);
      this.pipeline.add(new ApplyOverlayInitrdAction(initrd), timeouts);
    }
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    const out = await super.validate(ctx);
    if (this.stages.length && !initrdImageName(this.params.images)) {
      out.push("the job has test actions but the deploy has no 'initrd' (or 'ramdisk') image to carry the test overlay");
    }
    return out;
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    ctx.images.clear();
    ctx.imageArgs.clear();
    return this.pipeline!.run(ctx, connection, deadlineMs, signal);
  }
}
