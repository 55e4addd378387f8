import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE_NAMES } from "@magma/protocol";
import { env } from "../../env.ts";
import { AppError } from "../app-error.ts";
import { logger } from "../logger.ts";

type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

const g = globalThis as unknown as { magmaProducer?: Redis; magmaQueues?: Map<string, Queue> };

/** Default options of the producers' jobs: bounded history, retries with jittered backoff. */
export const DEFAULT_JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QUEUE_NAMES.callbacks]: {
    attempts: 10,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: { count: 5000, age: 7 * 24 * 3600 },
    removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
  },
  [QUEUE_NAMES.submissions]: {
    attempts: 8,
    backoff: { type: "exponential", delay: 2000, jitter: 0.5 },
    removeOnComplete: { count: 5000, age: 7 * 24 * 3600 },
    removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
  },
  // a transfer's progress lives in job_transfer, not in Redis: finished or failed queue jobs are
  // removed so the next callback, reconciliation or restart can queue the same id again
  [QUEUE_NAMES.transfers]: {
    attempts: 12,
    backoff: { type: "exponential", delay: 2000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  },
};

/**
 * Producer connection: fails fast (`enableOfflineQueue: false`, one retry per request), so a
 * request handler answers 503 instead of hanging while Redis is down.
 */
function producerConnection(): Redis {
  if (!g.magmaProducer) {
    const r = new Redis(env().REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    r.on("error", (err) => logger().warn({ err: err.message }, "redis producer connection error"));
    g.magmaProducer = r;
  }
  return g.magmaProducer;
}

/** PINGs Redis over the producers' connection (readiness). @throws the connection's error */
export async function pingRedis(): Promise<void> {
  await producerConnection().ping();
}

/** A new connection for a Worker: blocking commands must wait forever (`maxRetriesPerRequest: null`). */
export function workerConnection(): Redis {
  const r = new Redis(env().REDIS_URL, { maxRetriesPerRequest: null });
  r.on("error", (err) => logger().warn({ err: err.message }, "redis worker connection error"));
  return r;
}

/** The shared producer Queue of `name` (under MAGMA_QUEUE_PREFIX). */
export function producerQueue(name: QueueName): Queue {
  const queues = (g.magmaQueues ??= new Map());
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, {
      connection: producerConnection(),
      prefix: env().MAGMA_QUEUE_PREFIX,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
    });
    q.on("error", (err: Error) => logger().warn({ err: err.message, queue: name }, "queue error"));
    queues.set(name, q);
  }
  return q;
}

/**
 * Adds a job with a deterministic id and resolves only once Redis stored it (BullMQ ignores a
 * second add with the same id while the first still exists).
 * @param timeoutMs how long to wait for Redis before giving up
 * @throws AppError UPSTREAM_UNAVAILABLE with status 503 when Redis is unreachable or too slow
 */
export async function addJobOrFail(name: QueueName, jobName: string, data: unknown, jobId: string, timeoutMs = 3000): Promise<string> {
  const q = producerQueue(name);
  let timer: NodeJS.Timeout | undefined;
  try {
    const job = await Promise.race([
      (async () => {
        await q.waitUntilReady();
        return q.add(jobName, data, { jobId });
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return job.id ?? jobId;
  } catch (e) {
    throw new AppError("UPSTREAM_UNAVAILABLE", {
      statusCode: 503,
      message: `queue ${name} is unavailable (Redis ${env().REDIS_URL}): ${(e as Error).message}`,
      userMessage: `The job queue is unavailable, try again later: ${(e as Error).message}`,
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the producer queues and their connection (shutdown, tests). */
export async function closeProducers(): Promise<void> {
  const queues = g.magmaQueues;
  g.magmaQueues = undefined;
  for (const q of queues?.values() ?? []) await q.close().catch((err: Error) => logger().warn({ err: err.message }, "closing queue"));
  const r = g.magmaProducer;
  g.magmaProducer = undefined;
  r?.disconnect();
}
