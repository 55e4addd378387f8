import { env } from "../../env.ts";
import { closeDb, db } from "../db.ts";
import { logger } from "../logger.ts";
import { syncInstances } from "../services/sync-instances.ts";
import { secretsEncrypted } from "../auth/secret-box.ts";
import { backfillBuilds } from "../services/backfill-builds.ts";
import { startCallbackConsumer } from "./callback-consumer.ts";
import { closeProducers } from "./connections.ts";
import { startReconciler } from "./reconciler.ts";
import { startSubmissionConsumer } from "./submission-consumer.ts";
import { resumePendingTransfers, startTransferConsumer } from "./transfer-consumer.ts";

const g = globalThis as unknown as { magmaConsumersStarted?: boolean };

/**
 * Composition root of the frontend's background part, run once per Next server process from
 * instrumentation `register()`: syncs MAGMA_FRONTEND_CONFIG into the Instance table, starts the
 * `magma-callbacks`, `magma-submissions` and `magma-transfers` consumers (unfinished transfers of huge
 * jobs are queued again) and the reconciliation loop, links stored jobs
 * that have no build yet (backfillBuilds, in the background), and on SIGTERM/SIGINT closes the workers,
 * then the producers' Redis connection, then the DB.
 * @throws Error when the labs config is invalid (the server must not start half-configured)
 */
export async function startConsumers(): Promise<void> {
  if (g.magmaConsumersStarted) return;
  g.magmaConsumersStarted = true;
  const e = env();
  const log = logger();
  if (e.MAGMA_FRONTEND_CONFIG) {
    const labs = await syncInstances({ db: db(), configPath: e.MAGMA_FRONTEND_CONFIG });
    log.info(
      { labs: labs.map((l) => `${l.name}=${l.url}`), signedCallbacks: labs.filter((l) => l.callbackSecret).map((l) => l.name) },
      "labs synced from MAGMA_FRONTEND_CONFIG",
    );
    if (!secretsEncrypted())
      log.warn("MAGMA_FRONTEND_SECRET_KEY is not set: the labs' API tokens are stored in clear in the frontend database");
    const lava = labs.filter((l) => l.kind === "lava").map((l) => l.name);
    if (lava.length && !e.MAGMA_FRONTEND_PUBLIC_URL)
      log.warn(
        { labs: lava },
        "MAGMA_FRONTEND_PUBLIC_URL is not set: submissions to LAVA labs fail (LAVA could not call the frontend back)",
      );
  }
  const callbacks = startCallbackConsumer({
    db: db(),
    prefix: e.MAGMA_QUEUE_PREFIX,
    log: log.child({ consumer: "callbacks" }),
    concurrency: e.MAGMA_CALLBACK_CONCURRENCY,
    batch: e.MAGMA_CALLBACK_BATCH,
  });
  const submissions = startSubmissionConsumer({ db: db(), prefix: e.MAGMA_QUEUE_PREFIX, log: log.child({ consumer: "submissions" }) });
  const transfers = startTransferConsumer({
    db: db(),
    prefix: e.MAGMA_QUEUE_PREFIX,
    log: log.child({ consumer: "transfers" }),
    timeoutMs: Math.max(e.MAGMA_LAB_TIMEOUT_MS, 30_000),
  });
  log.info({ prefix: e.MAGMA_QUEUE_PREFIX }, "queue consumers started");
  // transfers of huge jobs cut short by the last stop continue from their stored cursors
  void resumePendingTransfers(db(), log.child({ consumer: "transfers" }));
  // jobs stored before builds existed (or before the metadata mapping changed): link them in the background
  void backfillBuilds({ db: db(), log: log.child({ task: "backfill-builds" }), keys: e.MAGMA_BUILD_METADATA_KEYS }).catch((err: Error) =>
    log.error({ err: err.message }, "linking stored jobs to builds failed; the next start tries again"),
  );
  const reconciler =
    e.MAGMA_RECONCILE_INTERVAL_MS > 0
      ? startReconciler({
          db: db(),
          log: log.child({ consumer: "reconciler" }),
          intervalMs: e.MAGMA_RECONCILE_INTERVAL_MS,
          timeoutMs: Math.max(e.MAGMA_LAB_TIMEOUT_MS, 10_000),
          vanishedMs: e.MAGMA_LAB_VANISHED_RETRY_MS,
        })
      : null;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down queue consumers");
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    try {
      await Promise.all([callbacks.close(), submissions.close(), transfers.close(), reconciler?.close()]);
      await closeProducers();
      await closeDb();
    } catch (err) {
      log.error({ err: (err as Error).message }, "error during shutdown");
    }
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
