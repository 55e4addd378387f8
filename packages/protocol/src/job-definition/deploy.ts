import { z } from "zod";
import { ZTimeout } from "./timeout.ts";

/** One image of a deploy action: LAVA's `images.<name>` (url, image_arg, checksums, compression). */
export const ZDeployImage = z.strictObject({
  url: z.string().min(1, "url must not be empty"),
  image_arg: z.string().optional(),
  sha256sum: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "sha256sum must be 64 hex digits")
    .optional(),
  md5sum: z.string().optional(),
  sha512sum: z.string().optional(),
  compression: z.enum(["gz", "xz", "bz2", "zstd", "zip"]).optional(),
  format: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type TDeployImage = z.infer<typeof ZDeployImage>;

/** `deploy: to: tmpfs` (lava_common/schemas/deploy/tmpfs.py): images downloaded for QEMU. */
export const ZDeployTmpfs = z.strictObject({
  to: z.literal("tmpfs"),
  images: z.record(z.string(), ZDeployImage).refine((m) => Object.keys(m).length > 0, "images must name at least one image"),
  timeout: ZTimeout.optional(),
  os: z.string().optional(),
  namespace: z.string().optional(),
  connection: z.string().optional(),
  failure_retry: z.number().int().positive().optional(),
});
export type TDeployTmpfs = z.infer<typeof ZDeployTmpfs>;

/** One image of a `to: tftp` deploy (`kernel:`, `ramdisk:`, `dtb:`), with the kernel's `type`. */
export const ZTftpImage = ZDeployImage.extend({ type: z.enum(["image", "uimage", "zimage"]).optional() });
export type TTftpImage = z.infer<typeof ZTftpImage>;

/**
 * `deploy: to: tftp` (lava_common/schemas/deploy/tftp.py): the worker downloads `kernel` (and
 * `ramdisk`, `dtb`) and serves them over TFTP from its own server for a U-Boot board to load
 * (`{KERNEL}`, `{RAMDISK}`, `{DTB}` in the boot commands are the paths under the TFTP root). When the
 * job has test actions, the LAVA overlay is appended to the ramdisk.
 */
export const ZDeployTftp = z.strictObject({
  to: z.literal("tftp"),
  kernel: ZTftpImage,
  ramdisk: ZTftpImage.optional(),
  dtb: ZTftpImage.optional(),
  timeout: ZTimeout.optional(),
  os: z.string().optional(),
  namespace: z.string().optional(),
  connection: z.string().optional(),
  failure_retry: z.number().int().positive().optional(),
});
export type TDeployTftp = z.infer<typeof ZDeployTftp>;

/** Deploy methods Magma runs. A `to:` not listed here is rejected at submission with its YAML path. */
export const SUPPORTED_DEPLOY_METHODS = ["tmpfs", "tftp"] as const;
export const ZDeployAction = z.discriminatedUnion("to", [ZDeployTmpfs, ZDeployTftp]);
export type TDeployAction = z.infer<typeof ZDeployAction>;
