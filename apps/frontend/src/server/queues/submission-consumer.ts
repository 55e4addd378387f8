import { UnrecoverableError, Worker } from "bullmq";
import { QUEUE_NAMES, ZSubmissionQueueJob } from "@magma/protocol";
import type { FrontendDb } from "@magma/db/frontend";
import type { Logger } from "pino";
import { deliverSubmissionTarget } from "../services/deliver-submission-target.ts";
import { workerConnection } from "./connections.ts";
import { metrics } from "../metrics.ts";

export interface StartSubmissionConsumerOptions {
  db: FrontendDb;
  prefix: string;
  log: Logger;
  /** Deadline of one POST to a lab, in ms. */
  timeoutMs?: number;
  concurrency?: number;
}

/**
 * `magma-submissions` consumer: one queue job = one (submission, lab) target. A lab's 4xx is
 * final (UnrecoverableError, target failed with the lab's message); network errors and 5xx are
 * thrown so BullMQ retries with exponential backoff + jitter (attempts 8); the job's progress
 * holds the last outcome (BullMQ's step-job pattern).
 */
export function startSubmissionConsumer({ db, prefix, log, timeoutMs = 15_000, concurrency = 4 }: StartSubmissionConsumerOptions): {
  worker: Worker;
  close(): Promise<void>;
} {
  const connection = workerConnection();
  const worker = new Worker(
    QUEUE_NAMES.submissions,
    async (job) => {
      const parsed = ZSubmissionQueueJob.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(
          `bad ${QUEUE_NAMES.submissions} job ${job.id}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      const attempts = job.opts.attempts ?? 1;
      const outcome = await deliverSubmissionTarget({
        db,
        targetId: parsed.data.targetId,
        lastAttempt: job.attemptsMade + 1 >= attempts,
        timeoutMs,
        log: log.child({ queueJobId: job.id, submissionId: parsed.data.submissionId }),
      });
      await job.updateProgress({ outcome: outcome.kind, attempt: job.attemptsMade + 1 });
      if (outcome.kind === "rejected" || outcome.kind === "retry") metrics().submissionFailures.inc({ outcome: outcome.kind });
      if (outcome.kind === "gone") throw new UnrecoverableError(`submission target ${parsed.data.targetId} no longer exists`);
      if (outcome.kind === "rejected") throw new UnrecoverableError(outcome.error);
      if (outcome.kind === "retry") throw new Error(outcome.error);
      if (outcome.kind === "awaiting-lab") return { awaitingLab: true };
      return { remoteJobId: outcome.remoteJobId };
    },
    { connection, prefix, concurrency },
  );
  worker.on("error", (err) => log.error({ err: err.message }, "submission consumer error"));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
