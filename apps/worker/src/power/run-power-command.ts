import { spawn } from "node:child_process";
import type { TPowerCommand } from "@magma/protocol";
import { InfrastructureError } from "../errors.ts";
import { maskCommandCredentials } from "../mask-command.ts";

/** Default budget of one power command, in seconds (dictionary `power_command_timeout_seconds`). */
export const DEFAULT_POWER_COMMAND_TIMEOUT_S = 30;
/** Characters of a failed command's output quoted in the error message. */
const OUTPUT_TAIL_CHARS = 2000;

/**
 * Where a power command's progress goes: the job log in a job (the dispatcher's JobLog fits), any
 * `{info, debug}` logger elsewhere. Declared here so power/ does not depend on the dispatcher.
 */
export interface PowerCommandLog {
  info(message: string): void;
  debug(message: string): void;
}

export interface RunPowerCommandOptions {
  log: PowerCommandLog;
  /** dictionary key, for messages: `power_on_command`, `hard_reset_command`… */
  what: string;
  command: TPowerCommand;
  /** budget of each command, in ms */
  timeoutMs: number;
  /** aborts the command (kills its process group) with `signal.reason` */
  signal: AbortSignal;
}

/**
 * Runs a device dictionary's power command(s) with `sh -c` (a PDU client on real labs, a script on
 * ours), as LAVA's `PDUReboot`/`PowerOn` do: each command in its own process group, stdout and
 * stderr logged line by line (`debug`), killed (SIGTERM, then SIGKILL) past `timeoutMs`.
 * @returns once every command exited 0
 * @throws InfrastructureError "<what> failed (exit code N): <command>; output: …" or
 *   "<what> timed out after N seconds: <command>; output: …"; `signal.reason` when aborted
 */
export async function runPowerCommand({ log, what, command, timeoutMs, signal }: RunPowerCommandOptions): Promise<void> {
  for (const cmd of Array.isArray(command) ? command : [command]) {
    log.info(`Calling ${what}: ${maskCommandCredentials(cmd)}`);
    await runOne(log, what, cmd, timeoutMs, signal);
  }
}

function runOne(log: PowerCommandLog, what: string, cmd: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", cmd], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let partial = "";
    let timedOut = false;
    const onText = (d: Buffer) => {
      const text = d.toString("utf8");
      output = (output + text).slice(-64 * 1024);
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) log.debug(`${what}: ${l.replace(/\r$/, "")}`);
    };
    child.stdout.on("data", onText);
    child.stderr.on("data", onText);
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      kill("SIGTERM");
      killTimer = setTimeout(() => kill("SIGKILL"), 2000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => stop();
    signal.addEventListener("abort", onAbort, { once: true });
    child.once("error", (e) => {
      output += `\n${e.message}`;
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal.removeEventListener("abort", onAbort);
      if (partial) log.debug(`${what}: ${partial}`);
      const tail = output.trim().slice(-OUTPUT_TAIL_CHARS) || "(no output)";
      if (signal.aborted) return reject(signal.reason);
      if (timedOut)
        return reject(
          new InfrastructureError(
            `${what} timed out after ${Math.round(timeoutMs / 1000)} seconds: ${maskCommandCredentials(cmd)}; output: ${tail}`,
          ),
        );
      if (code !== 0)
        return reject(
          new InfrastructureError(
            `${what} failed (${sig ? `signal ${sig}` : `exit code ${code}`}): ${maskCommandCredentials(cmd)}; output: ${tail}`,
          ),
        );
      log.debug(`${what} returned 0`);
      resolve();
    });
  });
}
