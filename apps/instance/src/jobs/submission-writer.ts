import { insertSubmittedJob, insertSubmittedJobs, type InstanceDb, type TNewJobRow, type TNewOutboxRow } from "@magma/db/instance";

/** Most jobs one statement inserts (a burst larger than this is written in several). */
export const MAX_SUBMISSION_BATCH = 64;

interface Pending {
  job: TNewJobRow;
  outbox: TNewOutboxRow | null;
  resolve: (id: number) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for submissions: the INSERT of a submission that arrives while another is being
 * written waits for it, then goes with every other one that arrived meanwhile in ONE statement
 * ({@link insertSubmittedJobs}: one round trip, one commit, ids in arrival order). A submission that
 * finds nothing in flight is written at once, alone, exactly as before ({@link insertSubmittedJob}),
 * so a lone client waits for nothing; under concurrent clients the database does one commit per
 * batch instead of one per job. When a batch is refused as a whole (a foreign key gone, an
 * idempotency key taken, a value PostgreSQL refuses) each of its jobs is written again alone, in
 * arrival order, so every submission gets its own outcome and its own error, never another's.
 */
export class SubmissionWriter {
  private readonly pending: Pending[] = [];
  private writing = false;

  constructor(private readonly db: InstanceDb) {}

  /**
   * Stores one Submitted job (with its federation outbox row, when given).
   * @returns the job's id once its statement committed
   * @throws the driver's error for this job, as insertSubmittedJob (sqlState 23503 / 23505 …)
   */
  insert(job: TNewJobRow, outbox: TNewOutboxRow | null): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ job, outbox, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_SUBMISSION_BATCH);
        if (batch.length === 1) {
          await this.alone(batch[0]!);
          continue;
        }
        let ids: number[] | null = null;
        try {
          ids = await insertSubmittedJobs(this.db, batch);
        } catch {
          // one job spoiled the batch: each alone, in arrival order (the first of two jobs with one
          // idempotency key wins, as it would have alone), so each gets its own outcome
          for (const p of batch) await this.alone(p);
        }
        if (ids) batch.forEach((p, i) => p.resolve(ids[i]!));
      }
    } finally {
      this.writing = false;
    }
  }

  private async alone(p: Pending): Promise<void> {
    try {
      p.resolve(await insertSubmittedJob(this.db, p.job, p.outbox));
    } catch (e) {
      p.reject(e);
    }
  }
}

const writers = new WeakMap<InstanceDb, SubmissionWriter>();

/** The one {@link SubmissionWriter} of a database client (created on first use). */
export function submissionWriter(db: InstanceDb): SubmissionWriter {
  let w = writers.get(db);
  if (!w) writers.set(db, (w = new SubmissionWriter(db)));
  return w;
}
