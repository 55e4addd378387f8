import { isMap, parseDocument } from "yaml";
import { ZLavaNotifyBlock, type TLavaNotifyCallback } from "@magma/protocol";
import { AppError } from "../app-error.ts";

/** What the frontend's own notify callback needs. */
export interface TFrontendCallback {
  /** `<frontend public URL>/api/callbacks/<lab>` */
  url: string;
  /**
   * Name of a token of the submitting LAVA user (a remote-artifact token name or an API token
   * description). LAVA's `get_token_from_description` swaps it for the token's secret and sends
   * that in `Authorization`, so the secret never appears in the stored job definition.
   */
  tokenName: string;
}

/** Criteria under which LAVA fires the frontend's callback when the user wrote none. */
export const FRONTEND_NOTIFY_CRITERIA = { status: "finished" } as const;

/**
 * Adds the frontend's callback to a LAVA job definition, as SQUAD and KernelCI do:
 * `notify: {criteria: {status: finished}, callbacks: [{url, method: POST, token, dataset: results,
 * content-type: json}]}` (lava_scheduler_app/schema.py `_job_notify_schema`). `dataset: results`
 * rather than SQUAD's `all`: `all` adds the whole job log, which the frontend drops (logs are read
 * from the lab on demand) and which would push a big job's callback over the 32 MiB body limit. A notify block the
 * user already had is kept: its criteria, recipients and callbacks stay, a legacy single `callback:`
 * becomes the first entry of `callbacks:` (LAVA allows only one of the two), and ours is appended
 * (LAVA calls them in order). With user criteria narrower than `finished` (e.g. `complete`), LAVA
 * calls us only then; reconciliation (reconcile-instance.ts) picks up the other finished jobs.
 * Comments and key order of the definition are kept (YAML document edit, not a re-dump).
 * @returns the definition text to submit
 * @throws AppError INVALID_REQUEST when the definition is not a YAML mapping or its `notify` is malformed
 */
export function addFrontendNotify(definition: string, cb: TFrontendCallback): string {
  const doc = parseDocument(definition);
  if (doc.errors.length)
    throw new AppError("INVALID_REQUEST", { message: `definition: YAML error: ${doc.errors[0]!.message.split("\n")[0]}` });
  if (!isMap(doc.contents)) throw new AppError("INVALID_REQUEST", { message: "definition: expected a YAML mapping (a LAVA job)" });
  const ours: TLavaNotifyCallback = { url: cb.url, method: "POST", token: cb.tokenName, dataset: "results", "content-type": "json" };
  const raw: unknown =
    doc.get("notify") === undefined ? undefined : (doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>)["notify"];
  if (raw === undefined || raw === null) {
    doc.set("notify", doc.createNode({ criteria: { ...FRONTEND_NOTIFY_CRITERIA }, callbacks: [ours] }));
    return doc.toString();
  }
  const parsed = ZLavaNotifyBlock.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `notify.${i.path.join(".")}: ${i.message}`).join("; ");
    throw new AppError("INVALID_REQUEST", { message: `definition: ${problems}` });
  }
  const { callback, callbacks, criteria, ...rest } = parsed.data;
  const already = (callbacks ?? []).concat(callback ? [callback] : []).some((c) => c.url === cb.url);
  const list = already
    ? [...(callback ? [callback] : []), ...(callbacks ?? [])]
    : [...(callback ? [callback] : []), ...(callbacks ?? []), ours];
  doc.set("notify", doc.createNode({ ...rest, criteria: criteria ?? { ...FRONTEND_NOTIFY_CRITERIA }, callbacks: list }));
  return doc.toString();
}
