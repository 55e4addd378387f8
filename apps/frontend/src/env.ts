import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { DEFAULT_BUILD_KEYS, ZBuildKeyMapping, type TBuildKeys } from "@magma/protocol";

/**
 * MAGMA_BUILD_METADATA_KEYS: a JSON (or YAML) mapping overriding which job metadata keys name a
 * build, field by field, e.g. `{"tree": "tree_name", "commit": ["git.commit", "revision"]}`.
 */
const ZBuildKeysEnv = z
  .string()
  .optional()
  .transform((s, ctx): TBuildKeys => {
    if (!s) return { ...DEFAULT_BUILD_KEYS };
    let o: unknown;
    try {
      o = parseYaml(s);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `not JSON or YAML: ${(e as Error).message.split("\n")[0]}` });
      return z.NEVER;
    }
    const r = ZBuildKeyMapping.safeParse(o);
    if (!r.success) {
      for (const i of r.error.issues)
        ctx.addIssue({ code: "custom", message: `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}` });
      return z.NEVER;
    }
    return r.data;
  });

/**
 * The ONLY reader of process.env in the frontend. Parsed once, on first use;
 * a bad value throws naming the variable and the reason. Defaults suit the local/embedded setup.
 */
const ZEnv = z.object({
  MAGMA_FRONTEND_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default("postgresql://postgres@127.0.0.1:5432/magma_frontend"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default("redis://127.0.0.1:6379"),
  /** BullMQ key prefix; tests use a unique one so they never see another run's jobs. */
  MAGMA_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only")
    .default("magma"),
  /** YAML file listing labs `[{name, url, api_token, callback_token}]`, synced into the DB at startup. */
  MAGMA_FRONTEND_CONFIG: z.string().min(1).optional(),
  MAGMA_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Timeout of a lab's overview request, in ms (labs page, submission checks). */
  MAGMA_LAB_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(3000),
  /**
   * Ingest transactions one process runs at once for `magma-callbacks`. Each holds one database
   * connection while it writes; more processes on one Redis add up. Few and large batches beat many
   * small ones (writers of one branch take turns): 2 measured 2.6× faster than 8 on 2 cores.
   */
  MAGMA_CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Most queued callbacks stored in one ingest transaction (group commit: callbacks that arrive
   * while transactions run are stored together, with one branch lock and one recomputation of
   * statuses/regressions per build; 1 = one transaction per callback).
   */
  MAGMA_CALLBACK_BATCH: z.coerce.number().int().min(1).max(256).default(32),
  /** Pause between reconciliation passes over every lab's finished jobs, in ms (0 = off). */
  MAGMA_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /**
   * A lab unreachable by the reconciler for this long (ms) has "vanished": its unfinished jobs of
   * submissions with `retry.infrastructure` move to another lab (0 = never).
   */
  MAGMA_LAB_VANISHED_RETRY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3_600_000)
    .default(15 * 60_000),
  /** Base URL of the DUT images (`vmlinuz`, `initramfs.cpio.gz`) the submit page's example job uses. */
  MAGMA_EXAMPLE_IMAGES_URL: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:4100"),
  /** Key (any string of 32+ characters) encrypting the labs' API tokens and callback secrets at rest. */
  MAGMA_FRONTEND_SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  /** Which job metadata keys name a build (tree, branch, commit, describe, url, kernel_version); KernelCI's by default. */
  MAGMA_BUILD_METADATA_KEYS: ZBuildKeysEnv,
  /**
   * URL at which labs reach this frontend (e.g. https://magma.example.org). Needed for labs of kind
   * `lava`: the frontend writes `<this>/api/callbacks/<lab>` into the notify callback of each job it submits.
   */
  MAGMA_FRONTEND_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
});
export type TEnv = z.infer<typeof ZEnv>;

let cached: TEnv | undefined;

/**
 * The validated environment.
 * @throws Error `Invalid environment: MAGMA_QUEUE_PREFIX: letters, digits…` naming each bad variable
 */
export function env(): TEnv {
  if (cached) return cached;
  const parsed = ZEnv.safeParse({
    MAGMA_FRONTEND_DATABASE_URL: process.env["MAGMA_FRONTEND_DATABASE_URL"] || undefined,
    REDIS_URL: process.env["REDIS_URL"] || undefined,
    MAGMA_QUEUE_PREFIX: process.env["MAGMA_QUEUE_PREFIX"] || undefined,
    MAGMA_FRONTEND_CONFIG: process.env["MAGMA_FRONTEND_CONFIG"] || undefined,
    MAGMA_LOG_LEVEL: process.env["MAGMA_LOG_LEVEL"] || undefined,
    MAGMA_LAB_TIMEOUT_MS: process.env["MAGMA_LAB_TIMEOUT_MS"] || undefined,
    MAGMA_CALLBACK_CONCURRENCY: process.env["MAGMA_CALLBACK_CONCURRENCY"] || undefined,
    MAGMA_CALLBACK_BATCH: process.env["MAGMA_CALLBACK_BATCH"] || undefined,
    MAGMA_RECONCILE_INTERVAL_MS: process.env["MAGMA_RECONCILE_INTERVAL_MS"] || undefined,
    MAGMA_LAB_VANISHED_RETRY_MS: process.env["MAGMA_LAB_VANISHED_RETRY_MS"] || undefined,
    MAGMA_EXAMPLE_IMAGES_URL: process.env["MAGMA_EXAMPLE_IMAGES_URL"] || undefined,
    MAGMA_FRONTEND_SECRET_KEY: process.env["MAGMA_FRONTEND_SECRET_KEY"] || undefined,
    MAGMA_BUILD_METADATA_KEYS: process.env["MAGMA_BUILD_METADATA_KEYS"] || undefined,
    MAGMA_FRONTEND_PUBLIC_URL: process.env["MAGMA_FRONTEND_PUBLIC_URL"] || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid environment: ${problems}`);
  }
  return (cached = parsed.data);
}
