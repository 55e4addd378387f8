/** Options of a {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most items handed to one `run` call (≥ 1). */
  maxBatch: number;
  /** Most `run` calls in flight at once (≥ 1). */
  maxInFlight: number;
}

/**
 * Group commit (as a database's WAL flush): items submitted while every `run` slot is busy wait and
 * go together in the next call, up to `maxBatch`; an idle slot takes what is waiting at once, so a
 * lone item is never delayed and a busy stream gets large batches by itself.
 *
 * `run(items)` must return one result per item, in order. When it throws for a batch of several
 * items, each item is run again alone (so one bad item fails only itself, and `run` must be
 * idempotent: the callback ingest is); the promise of `submit` settles with that item's own
 * result or error. Nothing is retried past that: the caller (BullMQ) retries.
 */
export class GroupCommit<T, R> {
  readonly #run: (items: T[]) => Promise<R[]>;
  readonly #o: GroupCommitOptions;
  readonly #waiting: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;

  constructor(run: (items: T[]) => Promise<R[]>, o: GroupCommitOptions) {
    if (!(o.maxBatch >= 1) || !(o.maxInFlight >= 1)) throw new Error(`GroupCommit: maxBatch and maxInFlight must be ≥ 1`);
    this.#run = run;
    this.#o = o;
  }

  /** Items waiting for a slot (not yet handed to `run`). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Queues `item` for the next batch.
   * @returns the item's result once its batch's `run` resolved (after its commit)
   * @throws whatever `run([item])` threw for it
   */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#o.maxInFlight && this.#waiting.length) {
      const batch = this.#waiting.splice(0, this.#o.maxBatch);
      this.#inFlight++;
      void this.#runBatch(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #runBatch(batch: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[]): Promise<void> {
    try {
      const results = await this.#run(batch.map((b) => b.item));
      if (results.length !== batch.length) throw new Error(`GroupCommit: run returned ${results.length} results for ${batch.length} items`);
      batch.forEach((b, i) => b.resolve(results[i]!));
      return;
    } catch (e) {
      if (batch.length === 1) {
        batch[0]!.reject(e);
        return;
      }
    }
    // the batch failed: each item alone, so only the faulty one fails
    for (const b of batch) {
      try {
        const [r] = await this.#run([b.item]);
        b.resolve(r!);
      } catch (e) {
        b.reject(e);
      }
    }
  }
}
