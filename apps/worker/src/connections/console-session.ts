import { StringDecoder } from "node:string_decoder";
import { compileJobPattern } from "@magma/protocol";
import type { RE2JS } from "re2js";
import { InfrastructureError, JobError } from "../errors.ts";

/** Longest text kept for prompt matching, in characters (older text is dropped). */
const MAX_BUFFER_CHARS = 64 * 1024;
/**
 * Longest console line kept, in characters (64 KiB). A DUT line longer than this is handed to
 * `onLine` cut there, ending with {@link LINE_CUT_MARKER} (the job log itself keeps the first
 * MAX_LOG_MSG_CHARS of any record), and the rest of it up to the next newline is dropped, with an
 * `onEvent` warning saying how much — so a DUT printing megabytes without a newline costs the
 * worker at most this much memory.
 */
export const MAX_LINE_CHARS = 64 * 1024;
/** Ends a console line cut at {@link MAX_LINE_CHARS}. */
export const LINE_CUT_MARKER = " [line cut: longer than 65536 characters]";
/** Longest unfinished escape sequence carried from one chunk to the next; longer ones are text. */
const MAX_ESCAPE_TAIL_CHARS = 256;
/** A partial line (a prompt has no newline) is logged after this much silence, in ms. */
const PARTIAL_LINE_FLUSH_MS = 300;
/** First and longest pause between two reconnection attempts, in ms. */
const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 1000;
/** A re-dialled link counts as re-established once it stayed open this long, in ms. */
const STABLE_LINK_MS = 1000;

/**
 * ANSI/VT100 escape sequences (CSI, OSC, two-byte ESC x) — busybox ash sends ESC[6n after its
 * prompt. An OSC (`ESC ]`) never spans a newline here: a stray `ESC ]` from a noisy DUT would
 * otherwise hide everything after it (the prompt included) as an unfinished sequence.
 */
// eslint-disable-next-line no-control-regex -- matching ESC/BEL is the point
const ANSI_RE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
/** An escape sequence cut at the end of a chunk: kept until the next chunk completes it. */
// eslint-disable-next-line no-control-regex -- matching ESC/BEL is the point
const ANSI_TAIL_RE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b\n]*)?$/;

/** Result of {@link ConsoleSession.expect}: which pattern matched and the text it matched. */
export interface ExpectMatch {
  index: number;
  match: RegExpExecArray;
}

/**
 * A pattern matched with RE2 (re2js): time linear in the text for any pattern, so a job's prompt
 * cannot stall the worker's event loop (and every other device on it). `exec` answers like
 * `RegExp.prototype.exec` (index, groups as array entries, UTF-16 offsets).
 */
export class LinearPattern {
  constructor(
    private readonly re: RE2JS,
    readonly source: string,
  ) {}

  exec(text: string): RegExpExecArray | null {
    const m = this.re.matcher(text);
    if (!m.find()) return null;
    const groups: string[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) as string);
    return Object.assign(groups, { index: m.start(), input: text }) as unknown as RegExpExecArray;
  }

  toString(): string {
    return `/${this.source}/ (RE2)`;
  }
}

/** What {@link ConsoleSession.expect} matches: a RegExp (the worker's own fixed patterns) or a {@link LinearPattern} (anything from a job or device dictionary). */
export type ExpectPattern = RegExp | LinearPattern;

/** What a transport reports to its session. */
export interface TransportHandlers {
  /** Bytes read from the DUT (protocol bytes such as telnet IAC sequences already removed). */
  onData(chunk: Buffer): void;
  /** The transport closed or failed on its own (not through `close()`). */
  onClose(error: Error): void;
}

/** One open link to a DUT console: a serial port, a telnet/TCP socket, a child process's pipes. */
export interface ConsoleTransport {
  /** Writes bytes; resolves once they are handed to the OS. @throws InfrastructureError */
  write(data: Buffer): Promise<void>;
  /** Closes the link (idempotent); `onClose` is not called for it. */
  close(): Promise<void>;
}

/** Opens a transport. @throws InfrastructureError when the link cannot be opened. */
export type TransportFactory = (handlers: TransportHandlers) => Promise<ConsoleTransport>;

export interface ConsoleSessionOptions {
  /** Called with every complete line read (raw text, \r removed), and partial lines after silence. */
  onLine?: (line: string) => void;
  /** Notable connection events (lost, reconnected), for the job log. */
  onEvent?: (message: string, level: "info" | "warning") => void;
  /**
   * How long a dropped link is re-dialled, in ms (0 = never, the default). Pending expects keep
   * waiting meanwhile; their own deadlines still apply.
   */
  reconnectWindowMs?: number;
}

type Waiter = { patterns: ExpectPattern[]; resolve: (m: ExpectMatch) => void; reject: (e: unknown) => void; cleanup: () => void };

/**
 * A line-oriented DUT console over any {@link ConsoleTransport}, LAVA's `ShellSession` on top of a
 * `ConnectDevice` connection. Keeps a rolling buffer of what was read (ANSI escapes and \r removed)
 * for {@link expect} — prompts have no trailing newline, so matching is on the buffer, not on
 * lines — and reports raw lines through `onLine` for the job log (`target` lines). Like pexpect, a
 * match consumes the buffer up to its end.
 *
 * A link that drops on its own (ser2net restarted, USB serial unplugged) is re-dialled for up to
 * `reconnectWindowMs`; if that fails, every pending and later call rejects with an
 * InfrastructureError saying the connection was lost and why.
 */
export class ConsoleSession {
  private buffer = "";
  private escapeTail = "";
  private partial = "";
  /** Inside a console line past {@link MAX_LINE_CHARS}: characters are counted and dropped until its newline. */
  private droppingLine = false;
  private droppedChars = 0;
  private checkScheduled = false;
  private partialTimer: NodeJS.Timeout | undefined;
  private decoder = new StringDecoder("utf8");
  private readonly waiters = new Set<Waiter>();
  private closedError: Error | undefined;
  private transport: ConsoleTransport | undefined;
  private reconnecting: Promise<void> | undefined;
  private lostReason: string | undefined;
  /** When the current loss began (epoch ms); cleared once a re-dialled link stayed up {@link STABLE_LINK_MS}. */
  private lostSinceMs: number | undefined;
  private attempts = 0;
  private stableTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly onLine: (line: string) => void;
  private readonly onEvent: (message: string, level: "info" | "warning") => void;
  private readonly reconnectWindowMs: number;

  /** Use {@link ConsoleSession.create} (or a subclass's `open`). */
  protected constructor(
    readonly name: string,
    private readonly connect: TransportFactory,
    options: ConsoleSessionOptions,
  ) {
    this.onLine = options.onLine ?? (() => {});
    this.onEvent = options.onEvent ?? (() => {});
    this.reconnectWindowMs = options.reconnectWindowMs ?? 0;
  }

  /**
   * Opens a session on the transport `connect` makes.
   * @param name how messages name the console (`telnet 127.0.0.1:7001`, `/dev/ttyUSB0`)
   * @throws InfrastructureError when the first connection fails
   */
  static async create(name: string, connect: TransportFactory, options: ConsoleSessionOptions = {}): Promise<ConsoleSession> {
    const s = new ConsoleSession(name, connect, options);
    await s.start();
    return s;
  }

  /** Opens the first transport. */
  protected async start(): Promise<void> {
    this.transport = await this.connect(this.handlers());
  }

  private handlers(): TransportHandlers {
    let live = true;
    return {
      onData: (chunk) => {
        if (live) this.onData(this.decoder.write(chunk));
      },
      onClose: (error) => {
        if (!live) return;
        live = false;
        this.onTransportClosed(error);
      },
    };
  }

  private onTransportClosed(error: Error): void {
    this.transport = undefined;
    clearTimeout(this.stableTimer);
    if (this.closing || this.closedError) return;
    this.flushPartial();
    if (this.reconnectWindowMs <= 0) {
      this.fail(error instanceof InfrastructureError ? error : new InfrastructureError(`${this.name}: ${error.message}`));
      return;
    }
    // a link that drops again right after a re-dial (ser2net accepting, then failing to open the
    // device) continues the same loss: the window is counted from the first drop
    if (this.lostSinceMs === undefined) {
      this.lostSinceMs = Date.now();
      this.lostReason = error.message;
      this.onEvent(
        `connection to ${this.name} lost (${error.message}); reconnecting for up to ${Math.round(this.reconnectWindowMs / 1000)} s`,
        "warning",
      );
    }
    this.reconnecting = this.reconnect(this.lostSinceMs + this.reconnectWindowMs).finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnect(untilMs: number): Promise<void> {
    let delay = RECONNECT_FIRST_DELAY_MS;
    let last = this.lostReason ?? "connection lost";
    while (!this.closing && !this.closedError) {
      if (this.attempts > 0 || Date.now() > (this.lostSinceMs ?? 0)) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
      }
      if (this.closing || this.closedError) return;
      if (Date.now() > untilMs) break;
      this.attempts++;
      try {
        this.decoder = new StringDecoder("utf8");
        const transport = await this.connect(this.handlers());
        this.transport = transport;
        // only a link that stays up counts as re-established
        this.stableTimer = setTimeout(() => {
          if (this.transport !== transport) return;
          this.onEvent(`reconnected to ${this.name} after ${this.attempts} attempt(s)`, "info");
          this.lostSinceMs = undefined;
          this.lostReason = undefined;
          this.attempts = 0;
        }, STABLE_LINK_MS);
        this.stableTimer.unref?.();
        return;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    if (this.closing) return;
    this.fail(
      new InfrastructureError(
        `connection to ${this.name} lost (${this.lostReason}) and not re-established within ${Math.round(this.reconnectWindowMs / 1000)} seconds (${this.attempts} attempts, last error: ${last})`,
      ),
    );
  }

  private onData(text: string): void {
    if (!text) return;
    this.splitLines(text);
    if (this.partialTimer) clearTimeout(this.partialTimer);
    if (this.partial) {
      this.partialTimer = setTimeout(() => this.flushPartial(), PARTIAL_LINE_FLUSH_MS);
      this.partialTimer.unref?.();
    }
    // matching buffer: escapes and \r removed, an escape cut at the chunk end carried over
    let clean = this.escapeTail + text;
    const tail = ANSI_TAIL_RE.exec(clean);
    this.escapeTail = tail && tail[0].length <= MAX_ESCAPE_TAIL_CHARS ? tail[0] : "";
    if (tail && this.escapeTail) clean = clean.slice(0, tail.index);
    this.buffer += clean.replace(ANSI_RE, "").replace(/\r/g, "");
    if (this.buffer.length > MAX_BUFFER_CHARS) this.buffer = this.buffer.slice(-MAX_BUFFER_CHARS);
    this.scheduleCheck();
  }

  /**
   * Feeds `text` into the line splitter: complete lines go to `onLine`, the unfinished one stays in
   * `partial`, never longer than {@link MAX_LINE_CHARS} (see there). Linear in `text`: only the new
   * text is searched for newlines.
   */
  private splitLines(text: string): void {
    let from = 0;
    for (;;) {
      const nl = text.indexOf("\n", from);
      const piece = nl < 0 ? text.slice(from) : text.slice(from, nl);
      if (this.droppingLine) this.droppedChars += piece.length;
      else {
        this.partial += piece;
        if (this.partial.length > MAX_LINE_CHARS) {
          const line = this.partial.slice(0, MAX_LINE_CHARS).replace(/\r/g, "");
          this.droppedChars = this.partial.length - MAX_LINE_CHARS;
          this.partial = "";
          this.droppingLine = true;
          this.onLine(line + LINE_CUT_MARKER);
        }
      }
      if (nl < 0) return;
      if (this.droppingLine) {
        this.onEvent(`dropped ${this.droppedChars} characters of a console line longer than ${MAX_LINE_CHARS} characters`, "warning");
        this.droppingLine = false;
        this.droppedChars = 0;
      } else {
        const line = this.partial.replace(/\r/g, "");
        this.partial = "";
        this.onLine(line);
      }
      from = nl + 1;
    }
  }

  /**
   * Runs the pending expects against the buffer once per event-loop turn, however many chunks
   * arrived in it: a DUT flooding its console costs one scan per turn, not one per chunk.
   */
  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      this.checkWaiters();
    });
  }

  private flushPartial(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    if (!this.partial) return;
    const line = this.partial.replace(/\r/g, "");
    this.partial = "";
    this.onLine(line);
  }

  private tryMatch(patterns: ExpectPattern[]): ExpectMatch | undefined {
    let best: ExpectMatch | undefined;
    patterns.forEach((re, index) => {
      const m = re instanceof RegExp ? new RegExp(re.source, re.flags.replace(/[gy]/g, "")).exec(this.buffer) : re.exec(this.buffer);
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

  /** True from a drop until a re-dialled link has stayed up (or the session failed). */
  get isReconnecting(): boolean {
    return this.lostSinceMs !== undefined && !this.closedError;
  }

  /**
   * Waits until one of `patterns` matches the text read since the last match (earliest match wins).
   * @param deadlineMs absolute time (epoch ms); past it, rejects with `onTimeout()` or a plain error —
   *   or, while the link is down and being re-dialled, with an InfrastructureError naming the loss
   *   (the timeout is the symptom, the lost connection the cause)
   * @param signal aborts the wait with `signal.reason` (action timeout, cancel, QEMU exit)
   * @returns the index of the matching pattern and the match; the buffer is consumed up to its end.
   */
  expect(patterns: ExpectPattern[], deadlineMs: number, signal: AbortSignal, onTimeout?: () => Error): Promise<ExpectMatch> {
    const now = this.tryMatch(patterns);
    if (now) return Promise.resolve(now);
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal.aborted) return Promise.reject(this.lostError() ?? signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        w.cleanup();
        reject(this.lostError() ?? signal.reason);
      };
      const timer = setTimeout(
        () => {
          w.cleanup();
          reject(
            this.lostError() ?? (onTimeout ? onTimeout() : new Error(`no match for ${patterns.map(String).join(", ")} on ${this.name}`)),
          );
        },
        Math.max(0, deadlineMs - Date.now()),
      );
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

  /** While re-dialling: the error a timed-out wait reports instead of the timeout. */
  private lostError(): InfrastructureError | undefined {
    if (!this.isReconnecting) return undefined;
    return new InfrastructureError(`connection to ${this.name} lost (${this.lostReason}) and not re-established before the deadline`);
  }

  /** Forgets what was read so far, so the next expect only sees new output. */
  clear(): void {
    this.buffer = "";
  }

  /**
   * Types `line` followed by a newline, and waits until it is written out (waiting for a
   * reconnection in progress first).
   * @throws InfrastructureError when the console is closed or the write fails.
   */
  send(line: string): Promise<void> {
    return this.write(`${line}\n`);
  }

  /**
   * Writes `text` as is (no newline): an interrupt character, a Ctrl-C.
   * @throws InfrastructureError when the console is closed or the write fails.
   */
  async write(text: string): Promise<void> {
    if (this.reconnecting) await this.reconnecting;
    if (this.closedError) throw this.closedError;
    if (!this.transport) throw new InfrastructureError(`${this.name} is not connected`);
    await this.transport.write(Buffer.from(text, "utf8"));
  }

  /** Closes the console (idempotent); pending expects reject with InfrastructureError. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.stableTimer);
    const t = this.transport;
    this.transport = undefined;
    this.fail(new InfrastructureError(`${this.name} closed`));
    await t?.close();
  }
}

/**
 * Compiles a LAVA prompt (a Python regex in job definitions and device dictionaries) for RE2
 * ({@link LinearPattern}, `compileJobPattern`); a prompt that is no valid regex is matched literally.
 * @throws JobError naming the prompt when it needs what RE2 lacks (backreferences, lookaround) —
 *   the submission refuses those already; this holds for bundles that skipped it.
 */
export function promptRegExp(prompt: string): LinearPattern {
  const c = compileJobPattern(prompt);
  if (!c.ok) throw new JobError(c.message);
  return new LinearPattern(c.re, prompt);
}
