import { UnrecoverableError, Worker } from "bullmq";
import { QUEUE_NAMES, ZCallbackQueueJob } from "@magma/protocol";
import { ingestFederatedJobs, type FrontendDb, type TIngestJobResult } from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { afterCallbackStored, prepareCallback, type TPreparedCallback } from "../services/ingest-callback.ts";
import { GroupCommit } from "./group-commit.ts";
import { workerConnection } from "./connections.ts";
import { metrics } from "../metrics.ts";
import { queueTransfer } from "./transfer-consumer.ts";

export interface StartCallbackConsumerOptions {
  db: FrontendDb;
  prefix: string;
  log: Logger;
  /** Ingest transactions at once (default 4). */
  concurrency?: number;
  /** Most callbacks per ingest transaction (default 32; 1: one transaction per callback). */
  batch?: number;
}

/**
 * `magma-callbacks` consumer: re-validates each job with ZCallbackQueueJob (bad input →
 * UnrecoverableError, no retry), parses it ({@link prepareCallback}), then stores it with the other
 * callbacks parsed while the previous transactions ran — up to `batch` callbacks in one transaction
 * (ingestFederatedJobs: idempotent, monotonic, the same result as one by one), `concurrency`
 * transactions at once ({@link GroupCommit}). A queue job completes only after its transaction
 * committed (at least once; a re-run changes nothing). A failed batch is retried callback by
 * callback, so a bad callback fails alone; DB errors are thrown so BullMQ retries with the
 * producer's backoff. BullMQ runs `concurrency × batch` queue jobs at once to keep the batches fed.
 * @returns the Worker and a `close()` that stops it, then its Redis connection
 */
export function startCallbackConsumer({ db, prefix, log, concurrency = 4, batch = 32 }: StartCallbackConsumerOptions): {
  worker: Worker;
  close(): Promise<void>;
} {
  const connection = workerConnection();
  const commits = new GroupCommit<TPreparedCallback, TIngestJobResult>(
    (ps) =>
      ingestFederatedJobs(
        db,
        ps.map((p) => p.input),
      ),
    {
      maxBatch: batch,
      maxInFlight: concurrency,
    },
  );
  const worker = new Worker(
    QUEUE_NAMES.callbacks,
    async (job) => {
      const parsed = ZCallbackQueueJob.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `bad ${QUEUE_NAMES.callbacks} job ${job.id}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      const jlog = log.child({ queueJobId: job.id, lab: parsed.data.instance, remoteJobId: parsed.data.payload.id });
      try {
        const prepared = await prepareCallback({ db, job: parsed.data, log: jlog });
        const r = await afterCallbackStored(db, prepared, await commits.submit(prepared), jlog);
        // a huge job's cases and log follow in bounded chunks (a Redis error here retries the ingest, which is idempotent)
        if (r.transfer) await queueTransfer(parsed.data.instance, parsed.data.payload.id);
        jlog.info({ ...r, state: parsed.data.payload.state_string, health: parsed.data.payload.health_string }, "callback ingested");
        const m = metrics();
        m.callbacksIngested.inc();
        if (r.casesInserted) m.testCasesIngested.inc(r.casesInserted);
        m.callbackLag.observe(Math.max(0, (Date.now() - job.timestamp) / 1000));
        return r;
      } catch (e) {
        if (e instanceof AppError && e.code === "NOT_FOUND") throw new UnrecoverableError(e.message);
        throw e;
      }
    },
    { connection, prefix, concurrency: concurrency * batch },
  );
  worker.on("error", (err) => log.error({ err: err.message }, "callback consumer error"));
  worker.on("failed", (job, err) =>
    log.warn({ queueJobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, "callback ingest failed"),
  );
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
