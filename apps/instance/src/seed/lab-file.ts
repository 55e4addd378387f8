import { z } from "zod";
import { parse } from "yaml";
import { DEVICE_HEALTHS, ZDeviceDictionaryOverrides } from "@magma/protocol";

const name = (what: string) => z.string().min(1, `${what} must not be empty`);

/**
 * Device-dictionary keys as a lab file gives them: checked against protocol
 * `ZDeviceDictionaryOverrides` (so `power_on_command: 7` is refused naming the key) but stored as
 * written — defaults are applied when the dictionary is rendered, not baked into a device's keys.
 */
const dictionary = z
  .record(z.string(), z.unknown())
  .default({})
  .superRefine((d, ctx) => {
    const r = ZDeviceDictionaryOverrides.safeParse(d);
    if (!r.success)
      for (const i of r.error.issues) ctx.addIssue({ code: "custom", path: i.path as (string | number)[], message: i.message });
  });

/**
 * One lab file (YAML): users with API tokens and groups, workers, device types, devices. A token with
 * `federation: true` may act for other users (X-Magma-Submitter); `groups` are created as needed.
 */
export const ZLabFile = z.strictObject({
  users: z
    .array(
      z.strictObject({
        username: name("username"),
        superuser: z.boolean().default(false),
        /** LAVA's User.email: notify payloads' `submitter_email` and `recipients` `user:` mail */
        email: z.email("email must be an email address").optional(),
        tokens: z
          .array(
            z.strictObject({
              secret: z.string().min(16, "a token secret needs at least 16 characters"),
              description: z.string().default(""),
              federation: z.boolean().default(false),
            }),
          )
          .default([]),
        groups: z.array(name("group")).default([]),
      }),
    )
    .default([]),
  workers: z
    .array(
      z.strictObject({
        hostname: name("hostname"),
        token: z.string().min(16, "a worker token needs at least 16 characters"),
        description: z.string().optional(),
        job_limit: z.number().int().min(0).default(0),
      }),
    )
    .default([]),
  device_types: z
    .array(
      z.strictObject({
        name: name("name"),
        description: z.string().optional(),
        health_check: z.string().min(1).optional(),
        health_frequency: z.number().int().positive().default(24),
        health_denominator: z.enum(["hours", "jobs"]).default("hours"),
        disable_health_check: z.boolean().default(false),
        dictionary,
      }),
    )
    .default([]),
  devices: z
    .array(
      z.strictObject({
        hostname: name("hostname"),
        device_type: name("device_type"),
        worker: name("worker"),
        description: z.string().optional(),
        tags: z.array(z.string().min(1)).default([]),
        health: z.enum(DEVICE_HEALTHS).default("Good"),
        dictionary,
      }),
    )
    .default([]),
});
export type TLabFile = z.infer<typeof ZLabFile>;

/**
 * Parses and validates a lab file.
 * @throws Error naming each bad field by its path, e.g. `devices[0].worker: worker must not be empty`
 */
export function parseLabFile(text: string): TLabFile {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new Error(`lab file is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = ZLabFile.safeParse(raw ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const path = i.path.map((p, k) => (typeof p === "number" ? `[${p}]` : k ? `.${String(p)}` : String(p))).join("");
      return `${path || "(top level)"}: ${i.code === "unrecognized_keys" ? `unknown key(s) ${i.keys.join(", ")}` : i.message}`;
    });
    throw new Error(`invalid lab file:\n  ${lines.join("\n  ")}`);
  }
  return r.data;
}
