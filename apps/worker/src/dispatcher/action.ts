import type { TJobTimeouts, TTimeout } from "@magma/protocol";
import type { JobContext } from "./job.ts";
import type { ConsoleSession } from "../connections/console-session.ts";
import type { Pipeline } from "./pipeline.ts";

/** What actions pass along: the DUT console once a boot action has opened one. */
export type Connection = ConsoleSession | undefined;

/** Static side of an action class: LAVA's class attributes. */
export interface ActionClass {
  /** kebab-case action name, as LAVA's (`http-download`, `boot-qemu-image`, `lava-test-shell`). */
  readonly name: string;
  readonly description: string;
  readonly summary: string;
}

/** Options every action takes from its pipeline. */
export interface ActionRunOptions {
  ctx: JobContext;
  connection: Connection;
  /** Absolute deadline (epoch ms): min(parent deadline, start + this action's timeout). */
  deadlineMs: number;
  /** Aborts on this action's timeout (ActionTimeoutError), the job timeout or a cancel (JobCanceled). */
  signal: AbortSignal;
}

/**
 * One step of a job pipeline, LAVA's `lava_dispatcher.action.Action`. Subclasses declare the
 * static `name` (kebab-case, shadowing Function.name), `description` and `summary`; implement `run()`, and may
 * override `validate()` (collect problems, never throw) and `cleanup()` (called on failure, with
 * its own budget). An action with an internal `pipeline` runs it from `run()`.
 */
export abstract class Action {
  /** Level in the pipeline ("1", "2.1", …), set by {@link Pipeline}. */
  level = "";
  /** This action's own duration in ms (before capping by the parent deadline), set by the pipeline. */
  timeoutMs = 0;
  /** The `timeout:` block of the job's action, for top-level actions. */
  ownTimeout?: TTimeout;
  /** A duration in ms that wins over inherited values (e.g. power-off's 10 s), unless timeouts.actions names it. */
  fixedTimeoutMs?: number;
  /** Child actions (LAVA's internal_pipeline). */
  pipeline?: Pipeline;
  /** Extra fields for this action's `results` record (LAVA's `extra`). */
  results: Record<string, unknown> = {};

  get name(): string {
    return (this.constructor as unknown as ActionClass).name;
  }
  get description(): string {
    return (this.constructor as unknown as ActionClass).description;
  }
  get summary(): string {
    return (this.constructor as unknown as ActionClass).summary;
  }

  /**
   * Builds child actions once the pipeline has set this action's level and timeout (LAVA's
   * `populate`): children are added with `this.pipeline.add(child, timeouts)`.
   */
  populate(_timeouts: TJobTimeouts): void {}

  /** Problems with the job or device for this action, as messages; may check remote resources. */
  async validate(_ctx: JobContext): Promise<string[]> {
    return this.pipeline ? this.pipeline.validate(_ctx) : [];
  }

  /**
   * Runs the action. Must stop promptly when `signal` aborts (throwing `signal.reason`).
   * @returns the connection for the next action (the same one unless a boot opened a console).
   * @throws a LavaError subclass classifying the failure.
   */
  abstract run(options: ActionRunOptions): Promise<Connection>;

  /** Called once when the job failed, in reverse order, with its own small budget. */
  async cleanup(_ctx: JobContext): Promise<void> {}
}
