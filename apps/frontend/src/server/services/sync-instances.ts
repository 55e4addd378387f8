import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { z } from "zod";
import { LAB_KINDS, upsertInstances, type FrontendDb, type TInstanceRecord } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";
import { callbackTokenDigest, sealSecret } from "../auth/secret-box.ts";

/** One lab of MAGMA_FRONTEND_CONFIG. */
export const ZInstanceConfig = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "name: letters, digits, '_', '.', '-' (max 63)"),
  /** "magma" (default): a Magma instance; "lava": an unchanged LAVA server (2023.01+), read through its REST API v0.2. See `npm run labs`. */
  kind: z.enum(LAB_KINDS).optional(),
  url: z.url({ protocol: /^https?$/ }),
  api_token: z.string().min(1),
  callback_token: z.string().min(8, "callback_token must be at least 8 characters"),
  /** HMAC-SHA256 key the lab signs its callbacks with; when set, unsigned callbacks are refused. */
  callback_secret: z.string().min(16, "callback_secret must be at least 16 characters").optional(),
  /**
   * LAVA labs: name of the frontend's LAVA user's token (remote-artifact token name or API token
   * description) whose secret is `callback_token`; written as `token:` in the notify callback the
   * frontend adds ("magma-callback" when absent).
   */
  callback_token_name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "callback_token_name: letters, digits, '_', '.', '-' (max 100)")
    .optional(),
});
/** The config file: a list of labs, or `{instances: [...]}`. */
export const ZFrontendConfig = z.union([
  z.array(ZInstanceConfig),
  z.object({ instances: z.array(ZInstanceConfig) }).transform((c) => c.instances),
]);

export interface SyncInstancesOptions {
  db: FrontendDb;
  /** Path of the YAML config file. */
  configPath: string;
}

/**
 * Reads the labs config (YAML) and creates/updates each lab by name; labs no longer listed are
 * kept so their jobs stay browsable. Secrets are stored sealed (see secret-box.ts).
 * @throws AppError INVALID_REQUEST naming the file and the bad entry (`[1].url: Invalid URL`)
 */
export async function syncInstances({ db, configPath }: SyncInstancesOptions): Promise<TInstanceRecord[]> {
  let raw: unknown;
  try {
    raw = parse(await readFile(configPath, "utf8"));
  } catch (e) {
    throw new AppError("INVALID_REQUEST", { message: `MAGMA_FRONTEND_CONFIG ${configPath}: ${(e as Error).message}`, cause: e });
  }
  const parsed = ZFrontendConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `[${i.path.join("].")}: ${i.message}`).join("; ");
    throw new AppError("INVALID_REQUEST", { message: `MAGMA_FRONTEND_CONFIG ${configPath} is invalid: ${problems}` });
  }
  const names = parsed.data.map((l) => l.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new AppError("INVALID_REQUEST", { message: `MAGMA_FRONTEND_CONFIG ${configPath}: lab "${dup}" is listed twice` });
  // secrets at rest: the API token and callback secret encrypted, the callback token as a digest
  return upsertInstances(
    db,
    parsed.data.map((l) => ({
      ...l,
      api_token: sealSecret(l.api_token),
      callback_token: callbackTokenDigest(l.callback_token),
      callback_secret: l.callback_secret ? sealSecret(l.callback_secret) : null,
    })),
  );
}
