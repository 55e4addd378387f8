import type { TJobTimeouts } from "@magma/protocol";
import type { Action, Connection } from "./action.ts";
import type { JobContext } from "./job.ts";
import { toLavaError, type LavaError } from "../errors.ts";
import { deadlineSignal, formatHms, formatSeconds, raceSignal, resolveTimeoutMs, timeoutError } from "./timeout.ts";

/** One line of a pipeline description (LAVA's description.yaml, flattened). */
export interface ActionDescription {
  level: string;
  name: string;
  description: string;
  summary: string;
  timeout: number;
}

const NAMESPACE = "common";

/**
 * An ordered list of actions with LAVA levels (1, 1.1, 1.1.1 …) and timeouts resolved by LAVA's
 * precedence (see {@link resolveTimeoutMs}); runs them under absolute deadlines, logging
 * `start: <level> <name> (timeout HH:MM:SS) [common]` / `end: <level> <name> (duration HH:MM:SS)
 * [common]` and one `results` record per action, as LAVA's `Pipeline.run_actions`.
 */
export class Pipeline {
  readonly actions: Action[] = [];

  constructor(private readonly parent?: Action) {}

  /** Appends an action and assigns its level and timeout (children inherit the parent's duration). */
  add(action: Action, timeouts: TJobTimeouts): this {
    this.actions.push(action);
    action.level = this.parent ? `${this.parent.level}.${this.actions.length}` : String(this.actions.length);
    action.timeoutMs = resolveTimeoutMs({
      name: action.name,
      own: action.ownTimeout,
      inheritedMs: this.parent?.timeoutMs,
      timeouts,
      fixedDefaultMs: action.fixedTimeoutMs,
    });
    action.populate(timeouts);
    return this;
  }

  /** Flattened description of every action, depth first. */
  describe(): ActionDescription[] {
    return this.actions.flatMap((a) => [
      { level: a.level, name: a.name, description: a.description, summary: a.summary, timeout: a.timeoutMs / 1000 },
      ...(a.pipeline?.describe() ?? []),
    ]);
  }

  /**
   * Collected validation problems of every action, in pipeline order. The actions are validated
   * concurrently (checks only read the job and device, never change them): the URL checks of a
   * deploy's images (HTTP HEAD each) overlap instead of adding up; each still fails the job here.
   */
  async validate(ctx: JobContext): Promise<string[]> {
    return (await Promise.all(this.actions.map((a) => a.validate(ctx)))).flat();
  }

  /**
   * Runs each action in order under `min(parentDeadlineMs, start + timeoutMs)`.
   * @throws the first failure as a LavaError (a timeout as ActionTimeoutError "<name> timed out after N seconds").
   */
  async run(ctx: JobContext, connection: Connection, parentDeadlineMs: number, signal: AbortSignal): Promise<Connection> {
    let conn = connection;
    for (const action of this.actions) {
      conn = await runAction(action, ctx, conn, parentDeadlineMs, signal);
    }
    return conn;
  }

  /** Cleans up every action (and children) in reverse order; errors are logged, not thrown. */
  async cleanup(ctx: JobContext): Promise<void> {
    for (const a of [...this.actions].reverse()) {
      try {
        await a.pipeline?.cleanup(ctx);
        await a.cleanup(ctx);
      } catch (e) {
        ctx.log.warning(`cleanup of ${a.name} failed: ${(e as Error).message}`);
      }
    }
  }
}

const reported = new WeakSet<Error>();

/** Runs one action with its deadline, start/end lines and results record. */
export async function runAction(
  action: Action,
  ctx: JobContext,
  connection: Connection,
  parentDeadlineMs: number,
  signal: AbortSignal,
): Promise<Connection> {
  const start = Date.now();
  const deadlineMs = Math.min(parentDeadlineMs, start + action.timeoutMs);
  const effectiveMs = deadlineMs - start;
  ctx.log.info(`start: ${action.level} ${action.name} (timeout ${formatHms(effectiveMs)}) [${NAMESPACE}]`);
  // a deadline set by the parent keeps the parent's error (e.g. the job timeout) via signal.reason
  const { signal: actionSignal, dispose } = deadlineSignal(deadlineMs, signal, () => timeoutError(action.name, effectiveMs));
  let failure: LavaError | undefined;
  try {
    return await raceSignal(action.run({ ctx, connection, deadlineMs, signal: actionSignal }), actionSignal);
  } catch (e) {
    failure = toLavaError(e);
    throw failure;
  } finally {
    dispose();
    const ms = Date.now() - start;
    // log a failure once, where it happened, not again at every enclosing level
    if (failure && !reported.has(failure)) {
      reported.add(failure);
      ctx.log.error(`${action.name} failed: ${failure.message}`);
    }
    ctx.log.info(`end: ${action.level} ${action.name} (duration ${formatHms(ms)}) [${NAMESPACE}]`);
    ctx.log.results({
      definition: "lava",
      case: action.name,
      result: failure ? "fail" : "pass",
      level: action.level,
      duration: formatSeconds(ms),
      namespace: NAMESPACE,
      ...(Object.keys(action.results).length || failure
        ? { extra: { ...action.results, ...(failure ? { fail: failure.message } : {}) } }
        : {}),
    });
  }
}
