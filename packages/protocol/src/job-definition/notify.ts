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

/**
 * One notify recipient (lava_scheduler_app/schema.py): `to: {method: email, user | email}` is mailed
 * through the instance's SMTP server; `method: irc` (`handle`, `server`) is refused at submission.
 */
export const ZNotifyRecipient = z.strictObject({
  to: z.strictObject({
    method: z.enum(["email", "irc"]),
    user: z.string().min(1).max(150).optional(),
    email: z.email("email must be an email address").optional(),
    handle: z.string().optional(),
    server: z.string().optional(),
  }),
});
export type TNotifyRecipient = z.infer<typeof ZNotifyRecipient>;

/** `notify:` block; `callback` (legacy single) and `callbacks` are exclusive, as in LAVA. */
export const ZNotify = z
  .strictObject({
    criteria: z.looseObject({
      status: z.enum(["running", "complete", "incomplete", "canceled", "finished", "all"]),
      type: z.enum(["regression", "progression"]).optional(),
      dependency_query: z.string().optional(),
    }),
    verbosity: z.enum(["verbose", "quiet", "status-only"]).optional(),
    recipients: z.array(ZNotifyRecipient).optional(),
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

/**
 * Whether `hostname` matches one of `patterns`, LAVA 2025+'s `CALLBACK_ALLOWED_HOSTS` check
 * (Python `fnmatch`: `*` any run, `?` one character, `[seq]` one of; case-insensitive here, as
 * host names are). An empty list allows every host, as LAVA when the setting is unset.
 */
export function callbackHostAllowed(hostname: string, patterns: readonly string[]): boolean {
  if (!patterns.length) return true;
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return patterns.some((p) => {
    let re = "";
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (c === "*") re += ".*";
      else if (c === "?") re += ".";
      else if (c === "[") {
        const end = p.indexOf("]", i + 2);
        if (end < 0) re += "\\[";
        else {
          const body = p.slice(i + 1, end).replace(/\\/g, "\\\\");
          re += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`;
          i = end;
        }
      } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`, "i").test(host);
  });
}

/**
 * The host a callback URL would reach, or undefined when `url` is not an http(s) URL. `{ID}`-style
 * placeholders are allowed in the path and query (they are substituted at delivery).
 */
export function callbackUrlHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return u.hostname.replace(/^\[(.*)\]$/, "$1");
  } catch {
    return undefined;
  }
}
