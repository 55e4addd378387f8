import { MULTINODE_PROTOCOL, type TJobTimeouts, type TTestAction } from "@magma/protocol";
import { stringify } from "yaml";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { JobError, TestError } from "../../../errors.ts";
import { lavaDir, type JobContext } from "../../job.ts";
import { suiteName, testDefinitionOf, type OverlayStage } from "../../overlay.ts";
import type { Pipeline } from "../../pipeline.ts";
import { RetryAction } from "../../retry-action.ts";
import { ShellSession } from "../shell/session.ts";
import { RUNNER_END_SENTINEL, SignalHandler, type DefinitionInfo } from "./signals.ts";
import { MultinodeDirector } from "./multinode.ts";

const RUNNER_END_RE = new RegExp(RUNNER_END_SENTINEL);

/**
 * LAVA's `lava-test-shell`: at the DUT prompt types `export SHELL=/bin/sh`, `. /lava-<id>/environment`
 * and `/lava-<id>/bin/lava-test-runner /lava-<id>/<stage>`; while the runner runs, every console line
 * goes through {@link SignalHandler} (results, test sets, events); ends at the runner's
 * `<LAVA_TEST_RUNNER EXIT>` and the next prompt, within the action's deadline.
 * `lava-test-raise` → TestError; QEMU dying → InfrastructureError; deadline → LAVATimeout. In a
 * MultiNode sub-job, `<LAVA_MULTI_NODE>` calls go to a {@link MultinodeDirector} (a call that gets
 * no answer in time → MultinodeTimeout).
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

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx } = options;
    // lava-test-raise ends every wait of the session with a TestError
    const raise = new AbortController();
    const shell = ShellSession.forAction(this, options, {
      noConsole: "lava-test-shell has no DUT console: the DUT was not booted",
      signals: [raise.signal],
      timeoutMs: this.timeoutMs,
    });
    const { connection } = shell;
    const prompts = ctx.prompts;
    if (!prompts?.length) throw new JobError("lava-test-shell: no shell prompt known (boot action without prompts)");
    const dir = lavaDir(ctx.jobId);
    const infos = new Map<string, DefinitionInfo>(
      this.stage.definitions.map((d) => [
        suiteName(d),
        {
          name: d.ref.name,
          path: d.ref.path,
          uuid: d.uuid,
          repository: d.ref.repository,
          ...(d.resolved?.commitId ? { commitId: d.resolved.commitId } : {}),
          ...(d.ref.from === "git" && d.ref.revision ? { revision: d.ref.revision } : {}),
          ...(testDefinitionOf(d).parse ? { parse: testDefinitionOf(d).parse } : {}),
          ...(d.ref.expected ? { expected: d.ref.expected, expectedFromJob: true } : {}),
          ...(!d.ref.expected && testDefinitionOf(d).expected ? { expected: testDefinitionOf(d).expected } : {}),
        },
      ]),
    );
    const handler = new SignalHandler(ctx.log, infos, (msg) => raise.abort(new TestError(msg)), ctx.caseBudget);
    // MultiNode: lava-send/-wait/-wait-all/-sync are relayed to the instance (LAVA's multinode-test)
    const ended = new AbortController();
    let lastLine = 0;
    const director = ctx.definition.protocols?.[MULTINODE_PROTOCOL]
      ? new MultinodeDirector(
          ctx,
          connection,
          AbortSignal.any([options.signal, ended.signal]),
          (id, result) => handler.handleLine(`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=${id} RESULT=${result}>`, lastLine),
          (e) => {
            if (!ended.signal.aborted) raise.abort(e);
          },
        )
      : undefined;
    const listener = (line: string, n: number) => {
      lastLine = n;
      handler.handleLine(line, n);
      director?.handleLine(line);
    };
    ctx.lineListeners.add(listener);
    try {
      ctx.log.debug("Using namespace: common");
      connection.clear();
      await shell.run("", prompts);
      await shell.run("export SHELL=/bin/sh", prompts);
      await shell.run(`. ${dir}/environment`, prompts);
      await shell.run(`${dir}/bin/lava-test-runner ${dir}/${this.stage.stage}`, [RUNNER_END_RE]);
      await shell.expect(prompts);
    } finally {
      ctx.lineListeners.delete(listener);
      handler.finishExpected();
      ended.abort(new TestError("lava-test-shell ended"));
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

  constructor(
    private readonly params: TTestAction,
    private readonly stage: OverlayStage,
  ) {
    super(params.failure_retry ?? 1);
    if (params.timeout) this.ownTimeout = params.timeout;
  }

  protected populateChildren(pipeline: Pipeline, timeouts: TJobTimeouts): void {
    pipeline.add(new LavaTestShellAction(this.stage), timeouts);
  }
}
