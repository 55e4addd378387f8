import { deriveJobToken, digestSecret, secretMatchesDigest } from "@magma/db/secrets";
import { MAX_PING_WAIT_MS, WORKER_PROTOCOL_VERSION, type TPingResponse } from "@magma/protocol";
import {
  countBusyJobsOfWorker,
  findWorkerCredentials,
  listActiveJobsOfWorker,
  recordWorkerPing,
  setWorkerOffline,
  storeJobTokenDigestOnce,
  type InstanceDb,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

/**
 * The ping answer now: Scheduled / Running / Canceling jobs on this worker's devices, with job tokens.
 * A job token is derived from the worker's own (just verified) token and the job's nonce
 * ({@link deriveJobToken}); the first answer that lists a job stores the token's digest, which the job
 * calls (bundle, state, logs) are checked against, so no job token is stored in the database.
 * Jobs `finishedRecently` names are left out: their FINISHED was handled after the read (the
 * database already says Finished), so the worker must not see them again.
 * @param workerToken the raw token the worker presented with this ping
 */
export async function pingAnswer(
  db: InstanceDb,
  workerId: number,
  workerToken: string,
  finishedRecently: (jobId: number) => boolean = () => false,
): Promise<TPingResponse> {
  const jobs = await listActiveJobsOfWorker(db, workerId);
  const withTokens = jobs.map((j) => ({ ...j, token: deriveJobToken(workerToken, j.id, j.tokenNonce) }));
  for (const j of withTokens) {
    if (j.tokenDigest === null) {
      // only the first ping stores it; a concurrent ping derives the same token
      await storeJobTokenDigestOnce(db, j.id, digestSecret(j.token));
    }
  }
  // filtered last, after every await: from here to the reply no FINISHED can be handled in between
  const pick = (s: string) => withTokens.filter((j) => j.state === s && !finishedRecently(j.id)).map((j) => ({ id: j.id, token: j.token }));
  return { start: pick("Scheduled"), running: pick("Running"), cancel: pick("Canceling") };
}

export interface PingWorkerOptions {
  ctx: InstanceContext;
  hostname: string;
  token: string | undefined;
  version: string | undefined;
  /** longest hold, ms (clamped to 0…MAX_PING_WAIT_MS) */
  waitMs: number;
  /** aborted when the client goes away */
  signal?: AbortSignal;
}

/**
 * Handles a worker ping, LAVA's `internal_v1_workers` GET, as a long-poll: records `version` and
 * `last_ping`, moves Offline → Online (and triggers a scheduling pass), then answers at once when
 * `start` or `cancel` is non-empty, otherwise waits up to `waitMs` for the scheduler or a cancel to
 * wake this worker (in-process notifier) and answers with the state at that moment.
 * @throws AppError NOT_FOUND `Unknown worker`; INVALID_REQUEST `Missing 'token'` / `Missing 'version'`;
 *   UNAUTHENTICATED `Invalid 'token'`; CONFLICT `Version mismatch '<v>' vs '<ours>'` (worker set Offline
 *   when it has nothing running, as LAVA)
 */
export async function pingWorker({ ctx, hostname, token, version, waitMs, signal }: PingWorkerOptions): Promise<TPingResponse> {
  const worker = await findWorkerCredentials(ctx.db, hostname);
  if (!worker) throw new AppError("NOT_FOUND", "Unknown worker");
  if (!token) throw new AppError("INVALID_REQUEST", "Missing 'token'");
  if (!secretMatchesDigest(token, worker.tokenDigest)) throw new AppError("UNAUTHENTICATED", "Invalid 'token'");
  if (!version) throw new AppError("INVALID_REQUEST", "Missing 'version'");
  if (version !== WORKER_PROTOCOL_VERSION) {
    const busy = await countBusyJobsOfWorker(ctx.db, worker.id);
    if (!busy) await setWorkerOffline(ctx.db, worker.id, version);
    throw new AppError("CONFLICT", `Version mismatch '${version}' vs '${WORKER_PROTOCOL_VERSION}'`);
  }

  // subscribe before reading, so a wake-up between the read and the wait is not lost
  let woken = false;
  let wake: (() => void) | null = null;
  const unsubscribe = ctx.notifier.onWorker(hostname, () => {
    woken = true;
    wake?.();
  });
  try {
    const wentOnline = worker.state === "Offline";
    await recordWorkerPing(ctx.db, worker.id, version);
    if (wentOnline) {
      ctx.logger.info({ worker: hostname }, "worker Online");
      ctx.scheduler?.trigger();
    }
    const deadline = Date.now() + Math.min(Math.max(0, waitMs), MAX_PING_WAIT_MS);
    for (;;) {
      woken = false;
      const answer = await pingAnswer(ctx.db, worker.id, token, (id) => ctx.notifier.finishedRecently(id));
      if (answer.start.length || answer.cancel.length) return answer;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return answer;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          const onAbort = () => done();
          signal?.addEventListener("abort", onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            wake = null;
            resolve();
          }
          wake = done;
        });
      }
    }
  } finally {
    unsubscribe();
  }
}
