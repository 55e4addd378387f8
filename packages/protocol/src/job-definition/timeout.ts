import { z } from "zod";

/**
 * A LAVA timeout: `{days|hours|minutes|seconds}` (lava_common/schemas `timeout()`); at least one key,
 * each a non-negative integer. Use {@link timeoutToMs} to turn it into milliseconds.
 */
export const ZTimeout = z
  .strictObject({
    days: z.number().int().nonnegative().optional(),
    hours: z.number().int().nonnegative().optional(),
    minutes: z.number().int().nonnegative().optional(),
    seconds: z.number().int().nonnegative().optional(),
    skip: z.boolean().optional(),
  })
  .refine((t) => t.days !== undefined || t.hours !== undefined || t.minutes !== undefined || t.seconds !== undefined, {
    message: "a timeout needs at least one of days, hours, minutes, seconds",
  });
export type TTimeout = z.infer<typeof ZTimeout>;

/** Converts a LAVA timeout to milliseconds (as LAVA's Timeout.parse, which works in seconds). */
export function timeoutToMs(t: TTimeout): number {
  return ((((t.days ?? 0) * 24 + (t.hours ?? 0)) * 60 + (t.minutes ?? 0)) * 60 + (t.seconds ?? 0)) * 1000;
}

/**
 * The top-level `timeouts:` block. `job` is required (as in LAVA); `action` and `connection` are
 * defaults for every action/connection; `actions`/`connections` override per action name
 * (e.g. `lava-test-shell`, `http-download`).
 */
export const ZJobTimeouts = z.strictObject({
  job: ZTimeout,
  action: ZTimeout.optional(),
  connection: ZTimeout.optional(),
  queue: ZTimeout.optional(),
  actions: z.record(z.string(), ZTimeout).optional(),
  connections: z.record(z.string(), ZTimeout).optional(),
});
export type TJobTimeouts = z.infer<typeof ZJobTimeouts>;
