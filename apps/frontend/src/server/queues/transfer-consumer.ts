import { UnrecoverableError, Worker } from "bullmq";
import { QUEUE_NAMES, ZTransferQueueJob, transferJobId } from "@magma/protocol";
import { listPendingTransfers, type FrontendDb } from "@magma/db/frontend";
import type { Logger } from "pino";
import { AppError } from "../app-error.ts";
import { runJobTransfer } from "../services/transfer-job.ts";
import { addJobOrFail, workerConnection } from "./connections.ts";

/**
 * Queues the transfer of a lab's job (`transfer-<lab>-<id>`; a transfer already queued is not
 * queued twice). Its progress is in the database, so the queue job only says "pull this job".
 * @throws AppError UPSTREAM_UNAVAILABLE when Redis is unreachable
 */
export async function queueTransfer(lab: string, remoteId: number): Promise<string> {
  return addJobOrFail(QUEUE_NAMES.transfers, "transfer", { lab, remoteId }, transferJobId(lab, remoteId));
}

/**
 * Queues every transfer not done yet (at startup: a frontend stopped mid-transfer continues each
 * from its stored cursor). Never throws: a transfer it could not queue is logged and queued again
 * by the next start or reconciliation of its job.
 * @returns the number queued
 */
export async function resumePendingTransfers(db: FrontendDb, log: Logger): Promise<number> {
  let n = 0;
  try {
    for (const t of await listPendingTransfers(db)) {
      await queueTransfer(t.lab, t.remoteId);
      n++;
    }
    if (n) log.info({ transfers: n }, "resumed unfinished job transfers");
  } catch (e) {
    log.error({ err: (e as Error).message, queued: n }, "could not resume unfinished job transfers");
  }
  return n;
}

export interface StartTransferConsumerOptions {
  db: FrontendDb;
  prefix: string;
  log: Logger;
  /** jobs pulled at once (each holds one page or log range in memory) */
  concurrency?: number;
  timeoutMs: number;
  casesPageSize?: number;
  logChunkLines?: number;
}

/**
 * `magma-transfers` consumer: runs runJobTransfer for each queued job (bad input → no retry; lab
 * errors → BullMQ retries with backoff, the run continuing from the stored cursors). Closing it
 * stops the running transfers between chunks.
 * @returns the Worker and a `close()` that stops it, then its Redis connection
 */
export function startTransferConsumer({
  db,
  prefix,
  log,
  concurrency = 2,
  timeoutMs,
  casesPageSize,
  logChunkLines,
}: StartTransferConsumerOptions): { worker: Worker; close(): Promise<void> } {
  const connection = workerConnection();
  const stopping = new AbortController();
  const worker = new Worker(
    QUEUE_NAMES.transfers,
    async (job) => {
      const parsed = ZTransferQueueJob.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `bad ${QUEUE_NAMES.transfers} job ${job.id}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      try {
        return await runJobTransfer({
          db,
          lab: parsed.data.lab,
          remoteId: parsed.data.remoteId,
          log,
          timeoutMs,
          signal: stopping.signal,
          ...(casesPageSize ? { casesPageSize } : {}),
          ...(logChunkLines ? { logChunkLines } : {}),
        });
      } catch (e) {
        if (e instanceof AppError && e.code === "NOT_FOUND") throw new UnrecoverableError(e.message);
        throw e;
      }
    },
    { connection, prefix, concurrency },
  );
  worker.on("error", (err) => log.error({ err: err.message }, "transfer consumer error"));
  worker.on("failed", (job, err) =>
    log.warn({ queueJobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, "job transfer attempt failed"),
  );
  return {
    worker,
    async close() {
      stopping.abort();
      await worker.close();
      connection.disconnect();
    },
  };
}
