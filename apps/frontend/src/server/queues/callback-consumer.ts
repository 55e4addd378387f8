import { UnrecoverableError, Worker } from "bullmq";
import { QUEUE_NAMES, ZCallbackQueueJob } from "@magma/protocol";
import type { FrontendDb } from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { ingestCallback } from "../services/ingest-callback.ts";
import { workerConnection } from "./connections.ts";
import { metrics } from "../metrics.ts";
import { queueTransfer } from "./transfer-consumer.ts";

export interface StartCallbackConsumerOptions {
  db: FrontendDb;
  prefix: string;
  log: Logger;
  concurrency?: number;
}

/**
 * `magma-callbacks` consumer: re-validates each job with ZCallbackQueueJob (bad input →
 * UnrecoverableError, no retry), then ingests it in one transaction (idempotent, monotonic).
 * DB errors are thrown so BullMQ retries with the producer's backoff.
 * @returns the Worker and a `close()` that stops it, then its Redis connection
 */
export function startCallbackConsumer({ db, prefix, log, concurrency = 4 }: StartCallbackConsumerOptions): {
  worker: Worker;
  close(): Promise<void>;
} {
  const connection = workerConnection();
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
        const r = await ingestCallback({ db, job: parsed.data, log: jlog });
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
    { connection, prefix, concurrency },
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
