import type { TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "./action.ts";
import { toLavaError } from "../errors.ts";
import { Pipeline } from "./pipeline.ts";

/**
 * An action owning a sub-pipeline that is run again on failure, up to `failure_retry` attempts in
 * total (default 1), as LAVA's `RetryAction`: never for a bug or a cancel, never past the deadline
 * ("No time left for remaining N retries"). Between attempts the sub-pipeline is cleaned up.
 */
export abstract class RetryAction extends Action {
  /** @param maxAttempts attempts in total, the job's `failure_retry` (LAVA's `max_retries`) */
  constructor(readonly maxAttempts = 1) {
    super();
  }

  /** Adds this retry action's children (called once by the pipeline). */
  protected abstract populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void;

  override populate(timeouts: TJobTimeouts): void {
    this.pipeline = new Pipeline(this);
    this.populateChildren(this.pipeline, timeouts);
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pipeline!.run(ctx, connection, deadlineMs, signal);
      } catch (e) {
        const err = toLavaError(e);
        const left = this.maxAttempts - attempt;
        if (!err.retriable || left <= 0 || signal.aborted) throw err;
        if (Date.now() >= deadlineMs) {
          ctx.log.error(`No time left for remaining ${left} retries`);
          throw err;
        }
        ctx.log.warning(`${this.name} failed: ${err.message}; retrying (attempt ${attempt + 1} of ${this.maxAttempts})`);
        await this.pipeline!.cleanup(ctx);
      }
    }
  }
}
