import {
  DEFAULT_MULTINODE_TIMEOUT_S,
  MAX_MULTINODE_WAIT_MS,
  MULTINODE_PROTOCOL,
  timeoutToMs,
  type TMultinodeRequest,
  type TMultinodeResponse,
} from "@magma/protocol";
import type { ConsoleSession } from "../../../connections/console-session.ts";
import { InfrastructureError, MultinodeTimeoutError } from "../../../errors.ts";
import type { JobContext } from "../../job.ts";
import { formatSeconds } from "../../timeout.ts";

const PREFIX = "<LAVA_MULTI_NODE> <LAVA_";
/** Pause between two coordination calls after a failed one (network, 5xx), ms. */
const RETRY_DELAY_MS = 1_000;

/** One MultiNode call found in a console line: the API (`SEND`, `WAIT`, `WAIT_ALL`, `SYNC`) and its words. */
export interface MultinodeSignal {
  api: string;
  args: string[];
}

/**
 * The MultiNode call in one console line, `<LAVA_MULTI_NODE> <LAVA_<API> args>` (LAVA's
 * `<LAVA_MULTI_NODE> <LAVA_(\S+) ([^>]+)>`), found with indexOf in linear time.
 * @returns the call, or undefined when the line holds none
 */
export function parseMultinodeSignal(line: string): MultinodeSignal | undefined {
  const s = line.indexOf(PREFIX);
  if (s < 0) return undefined;
  const from = s + PREFIX.length;
  const end = line.indexOf(">", from);
  if (end < 0) return undefined;
  const [api, ...args] = line.slice(from, end).trim().split(/\s+/);
  if (!api || !/^[A-Z_]+$/.test(api) || !args.length) return undefined;
  return { api, args };
}

/**
 * The coordination request of a signal, as LAVA's SignalDirector builds it: SEND → lava_send with
 * the KEY=VALUE words as `message`; WAIT → lava_wait; WAIT_ALL → lava_wait_all (second word: the
 * role); SYNC → lava_sync.
 * @returns undefined for an API MultiNode does not have
 */
export function multinodeRequest(sig: MultinodeSignal): TMultinodeRequest | undefined {
  const [messageID, ...rest] = sig.args as [string, ...string[]];
  switch (sig.api) {
    case "SEND": {
      const message: Record<string, string> = {};
      for (const w of rest) {
        const eq = w.indexOf("=");
        if (eq > 0) message[w.slice(0, eq)] = w.slice(eq + 1);
      }
      return { request: "lava_send", messageID, message };
    }
    case "WAIT":
      return { request: "lava_wait", messageID };
    case "WAIT_ALL":
      return { request: "lava_wait_all", messageID, ...(rest[0] ? { role: rest[0] } : {}) };
    case "SYNC":
      return { request: "lava_sync", messageID };
    default:
      return undefined;
  }
}

/**
 * What the worker types on the DUT console to answer a call (LAVA's `_on_wait`/`_on_wait_all`/
 * `_on_sync`): `<LAVA_WAIT_COMPLETE 12:key=value …>`, `<LAVA_WAIT_ALL_COMPLETE …>`,
 * `<LAVA_SYNC_COMPLETE>`, with ` nack` when the coordinator refused. lava-send gets no answer.
 */
export function multinodeReply(api: string, response: TMultinodeResponse): string | undefined {
  if (api === "SEND") return undefined;
  if (response.response === "nack") return `<LAVA_${api}_COMPLETE nack>`;
  let pairs = "";
  if (api !== "SYNC")
    for (const [job, kv] of Object.entries(response.message ?? {})) for (const [k, v] of Object.entries(kv)) pairs += ` ${job}:${k}=${v}`;
  return `<LAVA_${api}_COMPLETE${pairs}>`;
}

/**
 * Relays a MultiNode sub-job's test-shell calls to the instance (LAVA's `MultinodeTestAction`
 * SignalDirector + MultinodeProtocol poll): each `<LAVA_MULTI_NODE>` line becomes coordination calls
 * (long-polls of up to {@link MAX_MULTINODE_WAIT_MS}) until the instance answers, within the
 * protocol's `timeout` (default {@link DEFAULT_MULTINODE_TIMEOUT_S} s, LAVA's); the answer is typed
 * on the DUT console, and a `multinode-<api>-<messageID>` test case records pass. When the timeout
 * runs out the case records fail and `onFailure` gets a MultinodeTimeoutError (the job ends
 * Incomplete, error_type MultinodeTimeout). Calls run one at a time, in console order.
 */
export class MultinodeDirector {
  private queue: Promise<void> = Promise.resolve();
  private readonly timeoutMs: number;

  /**
   * @param testCase records a test case in the running definition (the test shell's TESTCASE signal)
   * @param onFailure ends the test shell with the error
   */
  constructor(
    private readonly ctx: JobContext,
    private readonly connection: ConsoleSession,
    private readonly signal: AbortSignal,
    private readonly testCase: (id: string, result: "pass" | "fail") => void,
    private readonly onFailure: (e: Error) => void,
  ) {
    const t = ctx.definition.protocols?.[MULTINODE_PROTOCOL]?.timeout;
    this.timeoutMs = t ? timeoutToMs(t) : DEFAULT_MULTINODE_TIMEOUT_S * 1000;
  }

  /** Handles the MultiNode call of a console line, if any (queued behind earlier ones). */
  handleLine(line: string): void {
    const sig = parseMultinodeSignal(line);
    if (!sig) return;
    this.queue = this.queue.then(() => this.process(sig)).catch((e: unknown) => this.onFailure(e as Error));
  }

  private async process(sig: MultinodeSignal): Promise<void> {
    const { log } = this.ctx;
    log.debug(`Received Multi_Node API <LAVA_${sig.api}>`);
    const request = multinodeRequest(sig);
    if (!request) {
      log.warning(`Unknown Multi_Node API <LAVA_${sig.api}>: ignored`);
      return;
    }
    const caseId = `multinode-${sig.api.toLowerCase()}-${request.messageID}`;
    const call = this.ctx.multinode;
    if (!call) throw new InfrastructureError("lava-multinode: this worker has no coordination channel to its instance");
    log.debug(`Handling signal <LAVA_${sig.api} ${JSON.stringify(request)}>`);
    const started = Date.now();
    const deadline = started + this.timeoutMs;
    let response: TMultinodeResponse = { response: "wait" };
    while (response.response === "wait") {
      if (this.signal.aborted) throw this.signal.reason;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.testCase(caseId, "fail");
        throw new MultinodeTimeoutError(
          `lava-multinode timed out after ${Math.round(this.timeoutMs / 1000)} seconds: <LAVA_${sig.api} ${sig.args.join(" ")}> got no answer (a peer never arrived)`,
        );
      }
      try {
        response = await call({ ...request, wait_ms: Math.min(left, MAX_MULTINODE_WAIT_MS) }, this.signal);
      } catch (e) {
        if (this.signal.aborted) throw this.signal.reason;
        const status = (e as { status?: number }).status;
        if (status !== undefined && status >= 400 && status < 500 && status !== 429)
          throw new InfrastructureError(`lava-multinode: the instance refused <LAVA_${sig.api}>: ${(e as Error).message}`);
        log.warning(`lava-multinode: coordination call failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(RETRY_DELAY_MS, Math.max(0, deadline - Date.now()))));
      }
    }
    log.debug(
      `lava-multinode: ${request.request} ${request.messageID} → ${response.response} after ${formatSeconds(Date.now() - started)} s`,
    );
    const reply = multinodeReply(sig.api, response);
    if (reply) {
      log.input(reply);
      await this.connection.send(reply);
    }
    this.testCase(caseId, "pass");
  }
}
