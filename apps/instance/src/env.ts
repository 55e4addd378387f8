import { z } from "zod";

/**
 * Instance configuration, parsed once from the environment (the ONLY file that reads
 * `process.env`). Defaults suit the local/embedded setup: one lab "lab-a" on 127.0.0.1:4001.
 */
export interface InstanceConfig {
  /** instance (lab) name, as the federation knows it */
  name: string;
  host: string;
  port: number;
  databaseUrl: string;
  /** federation callback URL (POSTed on Running and Finished) or null when not federated */
  federationCallbackUrl: string | null;
  /** sent as `x-magma-token` with federation callbacks */
  federationToken: string | null;
  /** HMAC key that signs federation callbacks (X-Magma-Signature), shared with the receiver; null = unsigned */
  federationSigningSecret: string | null;
  /**
   * Base URL of the frontend this lab joins by connecting OUT (outbound-only lab), or null. The lab
   * then needs no inbound reachability: it pulls its work and its callbacks go to this frontend (the
   * three federation* fields above are filled in from the credential the enrollment gave).
   */
  federationUrl: string | null;
  /** one-time enrollment token (`npm run labs -- enroll NAME` on the frontend); needed on the first start only */
  enrollmentToken: string | null;
  logLevel: string;
  /** a worker without a ping for this long is marked Offline (LAVA: 60 s) */
  workerOfflineAfterMs: number;
  /** externally visible base URL, used in DRF `next`/`previous` links */
  publicUrl: string;
  /**
   * key that seals the API-token secrets a notify callback's `token:` may name (AES-256-GCM), or null:
   * then tokens are stored as digests only and such a `token:` is sent literally
   */
  secretKey: string | null;
  /**
   * host patterns (fnmatch: `*`, `?`, `[seq]`) a job's notify callbacks may reach, LAVA 2025+'s
   * CALLBACK_ALLOWED_HOSTS (MAGMA_CALLBACK_ALLOWED_HOSTS, comma-separated); a callback to another host
   * is refused at submission. Empty = every host, as LAVA when unset
   */
  callbackAllowedHosts: string[];
  /**
   * SMTP server for notify `recipients` with `method: email` (MAGMA_SMTP_HOST, MAGMA_SMTP_PORT default
   * 25, MAGMA_SMTP_FROM default `magma@<instance name>`, LAVA's SERVER_EMAIL); null = email recipients
   * are refused at submission
   */
  smtp: { host: string; port: number; from: string } | null;
  /**
   * least time between two live-results pushes of one Running job to the federation, ms
   * (MAGMA_LIVE_RESULTS_INTERVAL_MS, default 1000; 0 = cases reach the frontend with Finished only)
   */
  liveResultsIntervalMs: number;
}

const ZEnv = z.object({
  MAGMA_INSTANCE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, '_', '.', '-'")
    .default("lab-a"),
  MAGMA_INSTANCE_HOST: z.string().min(1).default("127.0.0.1"),
  MAGMA_INSTANCE_PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  MAGMA_INSTANCE_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default("postgresql://postgres@127.0.0.1:5432/magma_lab_a"),
  MAGMA_FEDERATION_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  MAGMA_FEDERATION_TOKEN: z.string().min(1).optional(),
  MAGMA_FEDERATION_SIGNING_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  MAGMA_FEDERATION_URL: z.url({ protocol: /^https?$/ }).optional(),
  MAGMA_ENROLLMENT_TOKEN: z.string().min(16, "must be the token printed by `npm run labs -- enroll`").optional(),
  MAGMA_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAGMA_WORKER_OFFLINE_AFTER_MS: z.coerce.number().int().positive().default(60_000),
  MAGMA_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  MAGMA_SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  MAGMA_SMTP_HOST: z.string().min(1).optional(),
  MAGMA_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  MAGMA_SMTP_FROM: z.email("must be an email address").optional(),
  MAGMA_LIVE_RESULTS_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1_000),
  MAGMA_CALLBACK_ALLOWED_HOSTS: z
    .string()
    .regex(
      /^[A-Za-z0-9.*?[\]!:_-]+(\s*,\s*[A-Za-z0-9.*?[\]!:_-]+)*$/,
      "must be comma-separated host patterns (letters, digits, . - : _ * ? [ ] !)",
    )
    .optional(),
});

/**
 * Parses the instance configuration.
 * @param env the environment (default `process.env`); empty strings count as unset
 * @throws Error naming every bad variable and why, e.g. `MAGMA_INSTANCE_PORT: Too big: expected number to be <=65535`
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): InstanceConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("MAGMA_") && v !== ""));
  const r = ZEnv.safeParse(cleaned);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid instance environment: ${lines.join("; ")}`);
  }
  const e = r.data;
  if (e.MAGMA_FEDERATION_URL && e.MAGMA_FEDERATION_CALLBACK_URL)
    throw new Error(
      "Invalid instance environment: MAGMA_FEDERATION_URL (outbound-only lab) and MAGMA_FEDERATION_CALLBACK_URL (lab the frontend calls) exclude each other",
    );
  if (e.MAGMA_ENROLLMENT_TOKEN && !e.MAGMA_FEDERATION_URL)
    throw new Error("Invalid instance environment: MAGMA_ENROLLMENT_TOKEN needs MAGMA_FEDERATION_URL (the frontend to enroll with)");
  return {
    name: e.MAGMA_INSTANCE_NAME,
    host: e.MAGMA_INSTANCE_HOST,
    port: e.MAGMA_INSTANCE_PORT,
    databaseUrl: e.MAGMA_INSTANCE_DATABASE_URL,
    federationCallbackUrl: e.MAGMA_FEDERATION_CALLBACK_URL ?? null,
    federationToken: e.MAGMA_FEDERATION_TOKEN ?? null,
    federationSigningSecret: e.MAGMA_FEDERATION_SIGNING_SECRET ?? null,
    federationUrl: e.MAGMA_FEDERATION_URL?.replace(/\/+$/, "") ?? null,
    enrollmentToken: e.MAGMA_ENROLLMENT_TOKEN ?? null,
    logLevel: e.MAGMA_LOG_LEVEL,
    workerOfflineAfterMs: e.MAGMA_WORKER_OFFLINE_AFTER_MS,
    liveResultsIntervalMs: e.MAGMA_LIVE_RESULTS_INTERVAL_MS,
    secretKey: e.MAGMA_SECRET_KEY ?? null,
    smtp: e.MAGMA_SMTP_HOST
      ? { host: e.MAGMA_SMTP_HOST, port: e.MAGMA_SMTP_PORT, from: e.MAGMA_SMTP_FROM ?? `magma@${e.MAGMA_INSTANCE_NAME}` }
      : null,
    callbackAllowedHosts: (e.MAGMA_CALLBACK_ALLOWED_HOSTS ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
    publicUrl: (e.MAGMA_PUBLIC_URL ?? `http://${e.MAGMA_INSTANCE_HOST}:${e.MAGMA_INSTANCE_PORT}`).replace(/\/+$/, ""),
  };
}
