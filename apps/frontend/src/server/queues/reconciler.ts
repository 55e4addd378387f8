import { listInstances, type FrontendDb } from "@magma/db/frontend";
import type { Logger } from "pino";
import { reconcileInstance, type TReconcileResult } from "../services/reconcile-instance.ts";
import { reachableLab } from "../services/instance-client.ts";
import { metrics } from "../metrics.ts";
import { retryVanishedLab } from "../services/retry-elsewhere.ts";

export interface StartReconcilerOptions {
  db: FrontendDb;
  log: Logger;
  /** pause between passes, ms */
  intervalMs: number;
  /** deadline of each HTTP request to a lab, ms */
  timeoutMs: number;
  /**
   * A lab whose passes have failed for at least this long (ms, counted from the first failed pass
   * this process saw) has vanished: its stranded submission jobs are retried elsewhere
   * (retryVanishedLab). 0 or absent: never.
   */
  vanishedMs?: number;
}

/**
 * The safety net of the `magma-callbacks` queue: every `intervalMs` (and once right after start),
 * one reconciliation pass per lab, labs in parallel, passes never overlapping. Callbacks are the
 * fast path; this loop repairs what a lost Redis, a consumer killed mid-batch or a frontend that was
 * down for long dropped, within about one interval of the lab being reachable. A lab unreachable
 * for `vanishedMs` has its unfinished submission jobs (with `retry.infrastructure` left) moved to
 * another lab.
 * @returns `close()`, which stops the loop and waits for a running pass
 */
export function startReconciler({ db, log, intervalMs, timeoutMs, vanishedMs = 0 }: StartReconcilerOptions): {
  close(): Promise<void>;
  runOnce(): Promise<TReconcileResult[]>;
} {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<TReconcileResult[]> | null = null;
  /** lab name → time of the first failed pass of its current outage */
  const downSince = new Map<string, number>();

  const runOnce = (): Promise<TReconcileResult[]> => {
    running ??= (async () => {
      try {
        // outbound-only labs are never called: their outbox delivers every state change
        const labs = (await listInstances(db)).map(reachableLab).filter((l) => l !== null);
        const results = await Promise.all(labs.map((lab) => reconcileInstance({ db, lab, log, timeoutMs })));
        const m = metrics();
        for (const r of results) {
          if (!r.error) m.reconciled(r.lab, Date.now());
          if (r.repaired) m.reconcileRepaired.inc({ lab: r.lab }, r.repaired);
        }
        if (vanishedMs > 0) {
          const now = Date.now();
          for (const r of results) {
            if (!r.error) {
              downSince.delete(r.lab);
              continue;
            }
            const since = downSince.get(r.lab) ?? now;
            downSince.set(r.lab, since);
            const lab = labs.find((l) => l.name === r.lab);
            if (lab && now - since >= vanishedMs) {
              const moved = await retryVanishedLab({ db, instanceId: lab.id, goneForMs: now - since, timeoutMs, log });
              if (moved.length) log.warn({ lab: r.lab, outcomes: moved.map((m) => m.kind) }, "vanished lab: stranded jobs retried");
            }
          }
        }
        const repaired = results.filter((r) => r.repaired > 0);
        if (repaired.length) log.info({ results: repaired }, "reconciliation pass repaired jobs");
        return results;
      } catch (e) {
        log.error({ err: (e as Error).message }, "reconciliation pass failed");
        return [];
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const loop = async () => {
    if (stopped) return;
    await runOnce();
    if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
  };
  timer = setTimeout(() => void loop(), Math.min(intervalMs, 2000));
  return {
    runOnce,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
