import type { TJobTimeouts, TTestAction } from "@magma/protocol";
import { stringify } from "yaml";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { JobError, TestError } from "../../../errors.ts";
import { lavaDir, type JobContext } from "../../job.ts";
import { suiteName, type OverlayStage } from "../../overlay.ts";
import type { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { timeoutError } from "../../timeout.ts";
import { RUNNER_END_SENTINEL, SignalHandler, type DefinitionInfo } from "./signals.ts";

const RUNNER_END_RE = new RegExp(RUNNER_END_SENTINEL);

/**
 * LAVA's `lava-test-shell`: at the DUT prompt types `export SHELL=/bin/sh`, `. /lava-<id>/environment`
 * and `/lava-<id>/bin/lava-test-runner /lava-<id>/<stage>`; while the runner runs, every console line
 * goes through {@link SignalHandler} (results, test sets, events); ends at the runner's
 * `<LAVA_TEST_RUNNER EXIT>` and the next prompt, within the action's deadline.
 * `lava-test-raise` → TestError; QEMU dying → InfrastructureError; deadline → LAVATimeout.
 */
export class LavaTestShellAction extends Action {
  static readonly name = "lava-test-shell";
  static readonly description = "Executing lava-test-runner";
  static readonly summary = "Lava Test Shell";

  constructor(private readonly stage: OverlayStage) {
    super();
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    return ctx.definition.actions.some((a) => "boot" in a) ? [] : ["a test action needs a boot action before it"];
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    if (!connection) throw new JobError("lava-test-shell has no DUT console: the DUT was not booted");
    const prompts = ctx.prompts;
    if (!prompts?.length) throw new JobError("lava-test-shell: no shell prompt known (boot action without prompts)");
    const dir = lavaDir(ctx.jobId);
    const infos = new Map<string, DefinitionInfo>(
      this.stage.definitions.map((d) => [suiteName(d), { name: d.ref.name, path: d.ref.path, uuid: d.uuid, repository: d.ref.repository }]),
    );
    const raise = new AbortController();
    const handler = new SignalHandler(ctx.log, infos, (msg) => raise.abort(new TestError(msg)), ctx.caseBudget);
    const sig = AbortSignal.any([signal, raise.signal, ...(ctx.qemu ? [ctx.qemu.exited] : [])]);
    const onTimeout = () => timeoutError(this.name, this.timeoutMs);
    const listener = (line: string, n: number) => handler.handleLine(line, n);
    const type = async (cmd: string) => {
      ctx.log.input(cmd);
      await connection.send(cmd);
    };
    ctx.lineListeners.add(listener);
    try {
      ctx.log.debug("Using namespace: common");
      connection.clear();
      await type("");
      await connection.expect(prompts, deadlineMs, sig, onTimeout);
      await type("export SHELL=/bin/sh");
      await connection.expect(prompts, deadlineMs, sig, onTimeout);
      await type(`. ${dir}/environment`);
      await connection.expect(prompts, deadlineMs, sig, onTimeout);
      await type(`${dir}/bin/lava-test-runner ${dir}/${this.stage.stage}`);
      await connection.expect([RUNNER_END_RE], deadlineMs, sig, onTimeout);
      await connection.expect(prompts, deadlineMs, sig, onTimeout);
    } finally {
      ctx.lineListeners.delete(listener);
    }
    ctx.log.info("ok: lava_test_shell seems to have completed");
    const summary: Record<string, unknown> = {};
    for (const c of handler.cases) summary[c.case] = c.set ? { result: c.result, set: c.set } : c.result;
    if (handler.cases.length) ctx.log.info(stringify(summary).trimEnd());
    const missing = [...infos.keys()].filter((k) => !handler.finishedRuns.includes(k));
    if (missing.length) ctx.log.warning(`test definitions that did not complete: ${missing.join(", ")}`);
    return connection;
  }
}

/** `test:` action (LAVA's `lava-test-retry`), holding one lava-test-shell. */
export class TestShellRetry extends RetryAction {
  static readonly name = "lava-test-retry";
  static readonly description = "Retry wrapper for lava-test-shell";
  static readonly summary = "Retry support for Lava Test Shell";

  constructor(private readonly params: TTestAction, private readonly stage: OverlayStage) {
    super(params.failure_retry ?? 1);
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    pipeline.add(new LavaTestShellAction(this.stage), timeouts);
  }
}
