import net from "node:net";
import { parse as shellParse } from "shell-quote";
import { InfrastructureError } from "../errors.ts";
import type { ConsoleTransport, TransportHandlers } from "./console-session.ts";

/** How long a TCP connect may take, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;

// Telnet bytes (RFC 854/855)
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const CR = 13;
const NUL = 0;
/** Options we let the server enable on its side: BINARY (0), ECHO (1), SUPPRESS-GO-AHEAD (3). */
const ACCEPT_REMOTE = new Set([0, 1, 3]);
/** Options we enable on our side when asked: BINARY (0), SUPPRESS-GO-AHEAD (3). */
const ACCEPT_LOCAL = new Set([0, 3]);

/**
 * A telnet client's protocol half (RFC 854, 855, 1143-style loop avoidance), enough for ser2net
 * and QEMU's telnet server: data is passed through with every IAC sequence stripped (IAC IAC is a
 * 0xFF byte; subnegotiations are skipped; CR NUL becomes CR), and option requests are answered:
 * WILL ECHO/SGA/BINARY → DO, DO SGA/BINARY → WILL, anything else → DONT/WONT. A request for a state
 * we are already in gets no answer, so negotiation cannot loop. State survives chunk boundaries.
 */
export class TelnetCodec {
  private state: "data" | "iac" | "option" | "sb" | "sb-iac" = "data";
  private verb = 0;
  private lastWasCr = false;
  private readonly remote = new Map<number, boolean>();
  private readonly local = new Map<number, boolean>();

  /**
   * Parses bytes received from the server.
   * @returns `data`: the payload bytes; `reply`: negotiation answers to send back (may be empty)
   */
  decode(chunk: Buffer): { data: Buffer; reply: Buffer } {
    const data: number[] = [];
    const reply: number[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case "data":
          if (b === IAC) this.state = "iac";
          else if (!(b === NUL && this.lastWasCr)) data.push(b);
          this.lastWasCr = b === CR;
          break;
        case "iac":
          if (b === IAC) {
            data.push(IAC);
            this.state = "data";
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = "option";
          } else if (b === SB) this.state = "sb";
          else this.state = "data"; // NOP, GA, DM, BRK, AYT…: nothing to do
          break;
        case "option":
          reply.push(...this.negotiate(this.verb, b));
          this.state = "data";
          break;
        case "sb":
          if (b === IAC) this.state = "sb-iac";
          break;
        case "sb-iac":
          this.state = b === SE ? "data" : "sb";
          break;
      }
    }
    return { data: Buffer.from(data), reply: Buffer.from(reply) };
  }

  private negotiate(verb: number, opt: number): number[] {
    if (verb === WILL || verb === WONT) {
      const want = verb === WILL && ACCEPT_REMOTE.has(opt);
      const known = this.remote.get(opt);
      if (verb === WONT && !known) {
        this.remote.set(opt, false);
        return [];
      }
      if (known === want) return [];
      this.remote.set(opt, want);
      return [IAC, want ? DO : DONT, opt];
    }
    const want = verb === DO && ACCEPT_LOCAL.has(opt);
    const known = this.local.get(opt);
    if (verb === DONT && !known) {
      this.local.set(opt, false);
      return [];
    }
    if (known === want) return [];
    this.local.set(opt, want);
    return [IAC, want ? WILL : WONT, opt];
  }

  /** Escapes outgoing bytes: 0xFF is sent as IAC IAC. */
  encode(data: Buffer): Buffer {
    if (!data.includes(IAC)) return data;
    const out: number[] = [];
    for (const b of data) {
      out.push(b);
      if (b === IAC) out.push(IAC);
    }
    return Buffer.from(out);
  }
}

/** Host and port of a `telnet HOST PORT` connection command. */
export interface TelnetTarget {
  host: string;
  port: number;
}

/**
 * Parses a LAVA `connection_command` of the form `telnet [options] HOST [PORT]` (as ser2net serves
 * boards); telnet's own flags (`-8`, `-E`, `-e CHAR`, `-l USER`…) are skipped.
 * @returns the target, or undefined when the command is not a telnet command
 */
export function parseTelnetCommand(command: string): TelnetTarget | undefined {
  const tokens = shellParse(command).filter((t): t is string => typeof t === "string");
  const bin = tokens[0];
  if (!bin || bin.split("/").pop() !== "telnet") return undefined;
  const rest: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.startsWith("-")) {
      if (/^-[belnXkS]$/.test(t)) i++; // flags with a value
      continue;
    }
    rest.push(t);
  }
  const [host, port] = rest;
  if (!host) return undefined;
  const n = port === undefined ? 23 : Number(port);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) return undefined;
  return { host, port: n };
}

/**
 * Connects to a telnet server (ser2net, QEMU `-serial telnet:`) as a {@link ConsoleTransport}:
 * negotiation answered and IAC sequences stripped by {@link TelnetCodec}; the peer closing or
 * resetting the socket calls `onClose` with an InfrastructureError.
 * @throws InfrastructureError when the TCP connection is refused or times out
 */
export function openTelnetTransport(target: TelnetTarget, handlers: TransportHandlers): Promise<ConsoleTransport> {
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const codec = new TelnetCodec();
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    let closing = false;
    let connected = false;
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => {
      const { data, reply } = codec.decode(chunk);
      if (reply.length) socket.write(reply);
      if (data.length) handlers.onData(data);
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      if (!connected) reject(new InfrastructureError(`cannot connect to telnet ${where}: ${e.message}`));
    });
    socket.on("close", (hadError) => {
      clearTimeout(timer);
      if (connected && !closing)
        handlers.onClose(new InfrastructureError(`telnet ${where} closed by the remote end${hadError ? " (socket error)" : ""}`));
    });
    socket.on("connect", () => {
      clearTimeout(timer);
      connected = true;
      resolve({
        write: (data) =>
          new Promise((res, rej) => {
            if (socket.destroyed) return rej(new InfrastructureError(`telnet ${where} is closed`));
            socket.write(codec.encode(data), (e) =>
              e ? rej(new InfrastructureError(`write to telnet ${where} failed: ${e.message}`)) : res(),
            );
          }),
        close: () =>
          new Promise<void>((res) => {
            closing = true;
            if (socket.destroyed) return res();
            socket.once("close", () => res());
            socket.destroy();
          }),
      });
    });
  });
}
