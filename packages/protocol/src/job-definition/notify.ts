import { z } from "zod";

/** What a notify callback carries: `minimal` (job fields), `logs` (+ the log), `results` (+ test results), `all`. */
export const ZNotifyDataset = z.enum(["minimal", "logs", "results", "all"]);
export type TNotifyDataset = z.infer<typeof ZNotifyDataset>;

/**
 * One notify callback (lava_scheduler_app/schema.py CALLBACK_SCHEMA): url with `{ID}`-style
 * placeholders, method GET|POST, token (+ header name, default Authorization), dataset
 * minimal|logs|results|all, content-type urlencoded|json.
 */
export const ZNotifyCallback = z.strictObject({
  url: z.string().min(1, "url must not be empty"),
  method: z.enum(["GET", "POST"]).optional(),
  token: z.string().optional(),
  header: z.string().optional(),
  dataset: ZNotifyDataset.optional(),
  "content-type": z.enum(["urlencoded", "json"]).optional(),
});
export type TNotifyCallback = z.infer<typeof ZNotifyCallback>;

/** `notify:` block; `callback` (legacy single) and `callbacks` are exclusive, as in LAVA. */
export const ZNotify = z
  .strictObject({
    criteria: z.looseObject({
      status: z.enum(["running", "complete", "incomplete", "canceled", "finished", "all"]),
      type: z.enum(["regression", "progression"]).optional(),
      dependency_query: z.string().optional(),
    }),
    verbosity: z.enum(["verbose", "quiet", "status-only"]).optional(),
    recipients: z.array(z.unknown()).optional(),
    callback: ZNotifyCallback.optional(),
    callbacks: z.array(ZNotifyCallback).optional(),
    compare: z.unknown().optional(),
  })
  .refine((n) => !(n.callback && n.callbacks), { message: "callback and callbacks are mutually exclusive" });
export type TNotify = z.infer<typeof ZNotify>;

/** Callbacks of a notify block as one list (legacy `callback:` first). */
export function notifyCallbacks(n: TNotify | undefined): TNotifyCallback[] {
  if (!n) return [];
  return [...(n.callback ? [n.callback] : []), ...(n.callbacks ?? [])];
}
