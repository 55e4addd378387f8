import { z } from "zod";
import { ZTimeout } from "./timeout.ts";

/** LAVA's `auto_login` block (lava_common/schemas/boot). */
export const ZAutoLogin = z.strictObject({
  login_prompt: z.string().min(1),
  username: z.string().min(1),
  password_prompt: z.string().optional(),
  password: z.string().optional(),
  login_commands: z.array(z.string()).optional(),
});
export type TAutoLogin = z.infer<typeof ZAutoLogin>;

/**
 * LAVA's `transfer_overlay` block (lava_common/schemas/boot `transfer_overlay()`): at the shell
 * prompt the worker types `rm <overlay>`, `<download_command> <overlay URL>` and
 * `<unpack_command> <overlay>` — the job overlay as a gzip'd tarball served over HTTP by the worker —
 * for boards whose root filesystem the worker does not build (e.g. `download_command: cd /tmp; wget`,
 * `unpack_command: tar -C / -xzf`).
 */
export const ZTransferOverlay = z.strictObject({
  download_command: z.string().min(1, "download_command must not be empty"),
  unpack_command: z.string().min(1, "unpack_command must not be empty"),
});
export type TTransferOverlay = z.infer<typeof ZTransferOverlay>;

const bootCommon = {
  timeout: ZTimeout.optional(),
  prompts: z.array(z.string().min(1, "a prompt must not be empty")).min(1, "prompts must list at least one prompt"),
  auto_login: ZAutoLogin.optional(),
  namespace: z.string().optional(),
  connection: z.string().optional(),
  failure_retry: z.number().int().positive().optional(),
};

/** `boot: method: qemu` (lava_common/schemas/boot/qemu.py): QEMU with the deployed images. */
export const ZBootQemu = z.strictObject({
  method: z.literal("qemu"),
  media: z.literal("tmpfs").optional(),
  ...bootCommon,
});
export type TBootQemu = z.infer<typeof ZBootQemu>;

/**
 * `boot: method: u-boot` (lava_common/schemas/boot/u_boot.py): power-cycle the board, interrupt
 * U-Boot at `interrupt_prompt`, type `commands` at the bootloader prompt — a list, or the name of a
 * command set in the device dictionary's `boot_commands` — with LAVA's placeholders ({SERVER_IP},
 * {KERNEL}, {RAMDISK}, {DTB}, {KERNEL_ADDR}, {RAMDISK_ADDR}, {DTB_ADDR}, {BOOTX}, {TFTP_PORT}),
 * then wait for the kernel and the shell prompt. `type` (bootz/bootm/booti) builds {BOOTX}.
 */
export const ZBootUBoot = z.strictObject({
  method: z.literal("u-boot"),
  commands: z.union([z.string().min(1), z.array(z.string()).min(1, "commands must list at least one command")]),
  type: z.enum(["bootm", "bootz", "booti"]).optional(),
  bootloader_prompt: z.string().min(1).optional(),
  transfer_overlay: ZTransferOverlay.optional(),
  ...bootCommon,
});
export type TBootUBoot = z.infer<typeof ZBootUBoot>;

/**
 * `boot: method: minimal` (lava_common/schemas/boot/minimal.py): connect to the device's console,
 * power it on (reset) when the device dictionary has power commands and `reset` is not false, and
 * wait for the shell prompt (after `auto_login`).
 */
export const ZBootMinimal = z.strictObject({
  method: z.literal("minimal"),
  reset: z.boolean().optional(),
  transfer_overlay: ZTransferOverlay.optional(),
  ...bootCommon,
});
export type TBootMinimal = z.infer<typeof ZBootMinimal>;

/** Boot methods Magma runs. Any other `method:` is rejected at submission with its YAML path. */
export const SUPPORTED_BOOT_METHODS = ["qemu", "u-boot", "minimal"] as const;
export const ZBootAction = z.discriminatedUnion("method", [ZBootQemu, ZBootUBoot, ZBootMinimal]);
export type TBootAction = z.infer<typeof ZBootAction>;
