import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { InfrastructureError } from "../../../errors.ts";
import { abortPromise } from "../../timeout.ts";

/** Grace time between SIGTERM and SIGKILL when powering off, in ms. */
export const POWER_OFF_GRACE_MS = 5000;
const STDERR_TAIL_CHARS = 2000;
const PTY_RE = /char device redirected to (\/dev\/pts\/\d+)/;
/**
 * util-linux `setpriv`: QEMU is started through `setpriv --pdeathsig KILL`, so the kernel kills it
 * when the worker dies (SIGKILL, OOM, crash) instead of leaving an orphaned DUT running forever; the
 * restarted worker reports the job Incomplete (Infrastructure) and the device is free again.
 * setpriv execs QEMU, so the pid and process group stay QEMU's own.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * A QEMU process in its own process group (so powering off kills every child too), with its
 * stderr kept for error messages and an `exited` signal that aborts (reason InfrastructureError with
 * the stderr tail) when QEMU dies on its own.
 */
export class QemuProcess {
  /** QEMU processes spawned by this worker process and not yet exited (metrics). */
  static live = 0;
  private stderr = "";
  private readonly exitCtrl = new AbortController();
  private readonly exitPromise: Promise<void>;
  private stopping = false;
  private readonly outputListeners = new Set<() => void>();
  exitCode: number | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly command: string[],
  ) {
    // QEMU 7.2 prints "char device redirected to /dev/pts/N" on stdout, errors on stderr: keep both
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (d: string) => {
        this.stderr = (this.stderr + d).slice(-64 * 1024);
        for (const l of this.outputListeners) l();
      });
    }
    QemuProcess.live++;
    this.exitPromise = new Promise((resolve) => {
      let counted = true;
      const done = (code: number | null, sig: NodeJS.Signals | null) => {
        if (counted) QemuProcess.live--;
        counted = false;
        this.exitCode = code;
        if (!this.stopping) {
          this.exitCtrl.abort(
            new InfrastructureError(
              `QEMU exited unexpectedly (${sig ? `signal ${sig}` : `code ${code}`}): ${this.stderrTail() || "no stderr output"}`,
            ),
          );
        } else this.exitCtrl.abort(new InfrastructureError("QEMU was powered off"));
        resolve();
      };
      child.once("exit", done);
      child.once("error", (e) => {
        this.stderr += `\n${e.message}`;
        done(null, null);
      });
    });
  }

  /** Spawns `command` (binary + args) detached into its own process group. */
  static spawn(command: string[]): QemuProcess {
    const [bin, ...args] = command;
    if (!bin) throw new InfrastructureError("empty QEMU command");
    const argv = SETPRIV ? [SETPRIV, "--pdeathsig", "KILL", "--", bin, ...args] : [bin, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    return new QemuProcess(child, command);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Aborts once QEMU has exited; the reason is an InfrastructureError naming the stderr tail. */
  get exited(): AbortSignal {
    return this.exitCtrl.signal;
  }

  /**
   * When the console closed under us, QEMU is usually exiting: waits up to `ms` for that and
   * returns the exit reason (InfrastructureError with the stderr tail), or undefined if still running.
   */
  async exitReasonWithin(ms: number): Promise<Error | undefined> {
    if (!this.exitCtrl.signal.aborted) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.exitPromise, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
      clearTimeout(t);
    }
    return this.exitCtrl.signal.aborted && !this.stopping ? (this.exitCtrl.signal.reason as Error) : undefined;
  }

  /** Last part of QEMU's stderr, for error messages. */
  stderrTail(): string {
    return this.stderr.trim().slice(-STDERR_TAIL_CHARS);
  }

  /**
   * Waits for QEMU's `char device redirected to /dev/pts/N` line.
   * @returns the PTY path of the guest's serial port
   * @throws InfrastructureError if QEMU exits first; `signal.reason` if `signal` aborts first.
   */
  async ptyPath(signal: AbortSignal): Promise<string> {
    const found = PTY_RE.exec(this.stderr);
    if (found) return found[1]!;
    let onData: (() => void) | undefined;
    try {
      return await Promise.race([
        new Promise<string>((resolve) => {
          onData = () => {
            const m = PTY_RE.exec(this.stderr);
            if (m) resolve(m[1]!);
          };
          this.outputListeners.add(onData);
        }),
        abortPromise(this.exitCtrl.signal),
        abortPromise(signal),
      ]);
    } finally {
      if (onData) this.outputListeners.delete(onData);
    }
  }

  /**
   * Powers off: SIGTERM to the process group, SIGKILL after {@link POWER_OFF_GRACE_MS}. Resolves once
   * QEMU has exited (idempotent).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exitCtrl.signal.aborted) return;
    const pid = this.child.pid;
    if (pid === undefined) return;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          this.child.kill(sig);
        } catch {
          /* already gone */
        }
      }
    };
    kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitPromise, new Promise<void>((r) => (timer = setTimeout(r, POWER_OFF_GRACE_MS)))]);
    clearTimeout(timer);
    if (!this.exitCtrl.signal.aborted) {
      kill("SIGKILL");
      await this.exitPromise;
    }
  }
}
