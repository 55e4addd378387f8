/**
 * A tiny process supervisor for the local stack (demo and cross-app tests): starts each Magma
 * process in its own process group, appends its output to a log file, restarts it when it dies
 * unexpectedly (and says so), and stops everything in order.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";

/** How to run one supervised process. */
export interface ProcessSpec {
  /** Short unique name, e.g. "lab-a-instance"; also the log file name. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** Event sink: the demo prints these, tests collect them. */
export type SupervisorEvent = {
  name: string;
  event: "started" | "exited" | "restarting" | "gave-up";
  pid?: number;
  code?: number | null;
  signal?: string | null;
  log: string;
};

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | null;
  restarts: number;
  stopping: boolean;
  /** set by kill({hold: true}): not restarted until release() */
  held: boolean;
  out: WriteStream;
  logPath: string;
}

/**
 * Supervises a set of processes. Restarts a process that exits while not stopping, after
 * min(500 ms × 2^n, 10 s), at most `maxRestarts` times in a row (reset after 60 s of uptime).
 */
export class Supervisor {
  private readonly procs = new Map<string, Managed>();

  constructor(
    private readonly logDir: string,
    private readonly onEvent: (e: SupervisorEvent) => void = () => {},
    private readonly maxRestarts = 10,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts (and from then on supervises) a process. @throws Error if the name is taken. */
  start(spec: ProcessSpec): void {
    if (this.procs.has(spec.name)) throw new Error(`process "${spec.name}" is already supervised`);
    const logPath = path.join(this.logDir, `${spec.name}.log`);
    const m: Managed = {
      spec,
      child: null,
      restarts: 0,
      stopping: false,
      held: false,
      out: createWriteStream(logPath, { flags: "a" }),
      logPath,
    };
    this.procs.set(spec.name, m);
    this.launch(m);
  }

  /** Pid of a running process (for fault injection in tests), or undefined. */
  pid(name: string): number | undefined {
    return this.procs.get(name)?.child?.pid;
  }

  /** Log file path of a process. */
  logPath(name: string): string | undefined {
    return this.procs.get(name)?.logPath;
  }

  private launch(m: Managed): void {
    const startedAt = Date.now();
    const child = spawn(m.spec.command, m.spec.args, {
      cwd: m.spec.cwd,
      env: { ...process.env, ...m.spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    m.child = child;
    child.stdout?.pipe(m.out, { end: false });
    child.stderr?.pipe(m.out, { end: false });
    this.onEvent({ name: m.spec.name, event: "started", pid: child.pid, log: m.logPath });
    child.on("error", (err) => m.out.write(`[supervisor] spawn error: ${err.message}\n`));
    child.on("exit", (code, signal) => {
      m.child = null;
      if (m.stopping) return;
      this.onEvent({ name: m.spec.name, event: "exited", code, signal, log: m.logPath });
      if (m.held) return;
      if (Date.now() - startedAt > 60_000) m.restarts = 0;
      if (m.restarts >= this.maxRestarts) {
        this.onEvent({ name: m.spec.name, event: "gave-up", code, signal, log: m.logPath });
        return;
      }
      const delay = Math.min(500 * 2 ** m.restarts, 10_000);
      m.restarts += 1;
      this.onEvent({ name: m.spec.name, event: "restarting", code, signal, log: m.logPath });
      setTimeout(() => {
        if (!m.stopping) this.launch(m);
      }, delay).unref();
    });
  }

  /**
   * Fault injection: sends `signal` to the process itself (not its group, so e.g. a worker's QEMU
   * is left to fend for itself as after a real crash). The supervisor restarts it as usual (after
   * 500 ms; intentional kills do not count towards giving up), or, with `hold`, only on
   * {@link release}. Resolves once the process has exited.
   * @returns the pid killed, or undefined when it was not running
   */
  async kill(name: string, signal: NodeJS.Signals = "SIGKILL", opts: { hold?: boolean } = {}): Promise<number | undefined> {
    const m = this.procs.get(name);
    const child = m?.child;
    if (!m || !child?.pid) return undefined;
    m.held = opts.hold ?? false;
    m.restarts = 0;
    const pid = child.pid;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
    await exited;
    return pid;
  }

  /** Starts a process held down by kill({hold: true}) again (no-op when it is running). */
  release(name: string): void {
    const m = this.procs.get(name);
    if (!m || m.stopping) return;
    m.held = false;
    if (!m.child) this.launch(m);
  }

  /** Stops one process (SIGTERM to its group, SIGKILL after `graceMs`) without restarting it. */
  async stopOne(name: string, graceMs = 8000): Promise<void> {
    const m = this.procs.get(name);
    if (!m) return;
    m.stopping = true;
    const child = m.child;
    if (child?.pid) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.procs.delete(name);
    m.out.end();
  }

  /** Stops every process, in reverse start order. */
  async stopAll(): Promise<void> {
    for (const name of [...this.procs.keys()].reverse()) await this.stopOne(name);
  }
}
