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

/** Boot methods Magma runs. Any other `method:` is rejected at submission with its YAML path. */
export const SUPPORTED_BOOT_METHODS = ["qemu"] as const;
export const ZBootAction = ZBootQemu;
export type TBootAction = z.infer<typeof ZBootAction>;
