import { StringDecoder } from "node:string_decoder";
import { SerialPort } from "serialport";
import { InfrastructureError } from "../dispatcher/errors.ts";

/** Longest text kept for prompt matching, in characters (older text is dropped). */
const MAX_BUFFER_CHARS = 64 * 1024;
/** A partial line (a prompt has no newline) is logged after this much silence, in ms. */
const PARTIAL_LINE_FLUSH_MS = 300;

/** ANSI/VT100 escape sequences (CSI, OSC, two-byte ESC x) — busybox ash sends ESC[6n after its prompt. */
const ANSI_RE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
/** An escape sequence cut at the end of a chunk: kept until the next chunk completes it. */
const ANSI_TAIL_RE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$/;

/** Result of {@link SerialConsole.expect}: which pattern matched and the text it matched. */
export interface ExpectMatch {
  index: number;
  match: RegExpExecArray;
}

export interface SerialConsoleOptions {
  baudRate?: number;
  /** Called with every complete line read (raw text, trailing \r removed), and partial lines after silence. */
  onLine?: (line: string) => void;
}

type Waiter = { patterns: RegExp[]; resolve: (m: ExpectMatch) => void; reject: (e: unknown) => void; cleanup: () => void };

/**
 * A line-oriented DUT console on `serialport` (115200 8N1): a QEMU `-serial pty`, a /dev/ttyUSB*,
 * a ser2net PTY. Keeps a rolling buffer of what was read (ANSI escapes and \r removed) for
 * {@link expect} — prompts have no trailing newline, so matching is on the buffer, not on lines —
 * and reports raw lines through `onLine` for the job log. Like pexpect in LAVA's ShellSession,
 * a match consumes the buffer up to its end.
 */
export class SerialConsole {
  private buffer = "";
  private escapeTail = "";
  private partial = "";
  private partialTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new StringDecoder("utf8");
  private readonly waiters = new Set<Waiter>();
  private closedError: Error | undefined;

  private constructor(readonly port: SerialPort, readonly path: string, private readonly onLine: (line: string) => void) {
    port.on("data", (chunk: Buffer) => this.onData(this.decoder.write(chunk)));
    // a PTY whose other end went away (QEMU killed) reports EIO: the console is gone, not a crash
    port.on("error", (e: Error) => this.fail(new InfrastructureError(`serial console ${path}: ${e.message}`)));
    port.on("close", () => this.fail(new InfrastructureError(`serial console ${path} closed`)));
  }

  /**
   * Opens `path` as a serial port.
   * @throws InfrastructureError when the device cannot be opened.
   */
  static open(path: string, options: SerialConsoleOptions = {}): Promise<SerialConsole> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: options.baudRate ?? 115200, dataBits: 8, stopBits: 1, parity: "none", autoOpen: false });
      port.open((err) => {
        if (err) reject(new InfrastructureError(`cannot open serial console ${path}: ${err.message}`));
        else resolve(new SerialConsole(port, path, options.onLine ?? (() => {})));
      });
    });
  }

  private onData(text: string): void {
    if (!text) return;
    // line logging: raw text, split on \n, \r stripped
    this.partial += text;
    const lines = this.partial.split("\n");
    this.partial = lines.pop() ?? "";
    for (const l of lines) this.onLine(l.replace(/\r/g, ""));
    if (this.partialTimer) clearTimeout(this.partialTimer);
    if (this.partial) {
      this.partialTimer = setTimeout(() => this.flushPartial(), PARTIAL_LINE_FLUSH_MS);
      this.partialTimer.unref?.();
    }
    // matching buffer: escapes and \r removed, an escape cut at the chunk end carried over
    let clean = this.escapeTail + text;
    const tail = ANSI_TAIL_RE.exec(clean);
    this.escapeTail = tail ? tail[0] : "";
    if (tail) clean = clean.slice(0, tail.index);
    this.buffer += clean.replace(ANSI_RE, "").replace(/\r/g, "");
    if (this.buffer.length > MAX_BUFFER_CHARS) this.buffer = this.buffer.slice(-MAX_BUFFER_CHARS);
    this.checkWaiters();
  }

  private flushPartial(): void {
    this.partialTimer = undefined;
    if (!this.partial) return;
    const line = this.partial.replace(/\r/g, "");
    this.partial = "";
    this.onLine(line);
  }

  private tryMatch(patterns: RegExp[]): ExpectMatch | undefined {
    let best: ExpectMatch | undefined;
    patterns.forEach((re, index) => {
      const flags = re.flags.replace(/[gy]/g, "");
      const m = new RegExp(re.source, flags).exec(this.buffer);
      if (m && (!best || m.index < best.match.index)) best = { index, match: m };
    });
    if (best) this.buffer = this.buffer.slice(best.match.index + best.match[0].length);
    return best;
  }

  private checkWaiters(): void {
    for (const w of [...this.waiters]) {
      const m = this.tryMatch(w.patterns);
      if (m) {
        w.cleanup();
        w.resolve(m);
      }
    }
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    this.flushPartial();
    for (const w of [...this.waiters]) {
      w.cleanup();
      w.reject(e);
    }
  }

  /**
   * Waits until one of `patterns` matches the text read since the last match (earliest match wins).
   * @param deadlineMs absolute time (epoch ms); past it, rejects with `onTimeout()` or a plain error
   * @param signal aborts the wait with `signal.reason` (action timeout, cancel, QEMU exit)
   * @returns the index of the matching pattern and the match; the buffer is consumed up to its end.
   */
  expect(patterns: RegExp[], deadlineMs: number, signal: AbortSignal, onTimeout?: () => Error): Promise<ExpectMatch> {
    const now = this.tryMatch(patterns);
    if (now) return Promise.resolve(now);
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        w.cleanup();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        w.cleanup();
        reject(onTimeout ? onTimeout() : new Error(`no match for ${patterns.map(String).join(", ")} on ${this.path}`));
      }, Math.max(0, deadlineMs - Date.now()));
      const w: Waiter = {
        patterns,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          this.waiters.delete(w);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  /** Forgets what was read so far, so the next expect only sees new output. */
  clear(): void {
    this.buffer = "";
  }

  /**
   * Types `line` followed by a newline, and waits until it is written out.
   * @throws InfrastructureError when the console is closed or the write fails.
   */
  send(line: string): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.port.write(`${line}\n`, (e) => {
        if (e) return reject(new InfrastructureError(`write to ${this.path} failed: ${e.message}`));
        this.port.drain((d) => (d ? reject(new InfrastructureError(`drain of ${this.path} failed: ${d.message}`)) : resolve()));
      });
    });
  }

  /** Closes the port (idempotent); pending expects reject with InfrastructureError. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) {
        this.fail(new InfrastructureError(`serial console ${this.path} closed`));
        return resolve();
      }
      this.port.close(() => resolve());
    });
  }
}

/**
 * Compiles a LAVA prompt (a Python regex in job definitions) to a RegExp; a prompt that is not a
 * valid JS regex is matched literally.
 */
export function promptRegExp(prompt: string): RegExp {
  try {
    return new RegExp(prompt);
  } catch {
    return new RegExp(prompt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  }
}
