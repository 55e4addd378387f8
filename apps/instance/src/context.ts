import type { InstanceDb } from "@magma/db/instance";
import type { InstanceConfig } from "./env.ts";
import type { Logger } from "./logger.ts";
import type { Notifier } from "./notifier.ts";
import type { InstanceMetrics } from "./metrics.ts";
import { Effects, applyEffects } from "./effects.ts";
import type { TransitionContext } from "./jobs/job-transitions.ts";

/** The long-lived parts services use (built once by buildApp, or by the CLI without loops). */
export interface InstanceContext {
  db: InstanceDb;
  config: InstanceConfig;
  logger: Logger;
  notifier: Notifier;
  /** `trigger(deviceTypeId)` for a submission (may skip the pass), `trigger()` for anything else */
  scheduler: { trigger(deviceTypeId?: number): void } | null;
  outbox: { wake(): void } | null;
  /** sends notify emails of a job (absent in the CLI and when the app was built without it) */
  mailer?: { send(jobId: number): void } | null;
  /** pushes the test cases of Running jobs to the federation (absent in the CLI) */
  liveResults?: { casesRecorded(jobId: number): void } | null;
  /** Prometheus metrics (absent in the CLI, which serves none) */
  metrics?: InstanceMetrics;
}

/**
 * Runs `fn` in one database transaction with a fresh {@link Effects} sink and applies the effects
 * (worker wake-ups, scheduler pass, outbox wake) only after the commit succeeded.
 * @returns what `fn` returned
 * @throws whatever `fn` throws (the transaction is rolled back and no effect is applied)
 */
export async function inTransaction<T>(ctx: InstanceContext, fn: (t: TransitionContext) => Promise<T>): Promise<T> {
  const effects = new Effects();
  const federation = ctx.config.federationCallbackUrl ? { url: ctx.config.federationCallbackUrl } : null;
  const result = await ctx.db.$transaction((tx) => fn({ tx, effects, instanceName: ctx.config.name, federation }), {
    timeout: 30_000,
    maxWait: 10_000,
  });
  applyEffects(effects, ctx);
  return result;
}
