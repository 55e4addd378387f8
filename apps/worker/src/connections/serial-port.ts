import { InfrastructureError } from "../errors.ts";
import { ConsoleSession, type ConsoleSessionOptions, type ConsoleTransport, type TransportHandlers } from "./console-session.ts";

export { promptRegExp, type ExpectMatch } from "./console-session.ts";

export interface SerialConsoleOptions extends ConsoleSessionOptions {
  /** Baud rate (8N1 always), default 115200. */
  baudRate?: number;
}

/**
 * Opens `path` with serialport at `baudRate` 8N1 as a {@link ConsoleTransport}. A PTY whose other
 * end went away (QEMU killed) reports EIO: `onClose` gets an InfrastructureError, never a crash.
 * serialport (native bindings) is loaded on the first serial console, not at worker start: most
 * labs reach their consoles over telnet or a command and never pay its memory.
 * @throws InfrastructureError when the device cannot be opened.
 */
export async function openSerialTransport(path: string, baudRate: number, handlers: TransportHandlers): Promise<ConsoleTransport> {
  // CommonJS: a bundle that inlines it exposes it as `default` only, Node's own loader also as named exports
  const m = await import("serialport");
  const { SerialPort } = (m as unknown as { default?: typeof m }).default ?? m;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, dataBits: 8, stopBits: 1, parity: "none", autoOpen: false });
    let closing = false;
    port.open((err) => {
      if (err) return reject(new InfrastructureError(`cannot open serial console ${path}: ${err.message}`));
      port.on("data", (chunk: Buffer) => handlers.onData(chunk));
      port.on("error", (e: Error) => {
        if (!closing) handlers.onClose(new InfrastructureError(`serial console ${path}: ${e.message}`));
      });
      port.on("close", () => {
        if (!closing) handlers.onClose(new InfrastructureError(`serial console ${path} closed`));
      });
      resolve({
        write: (data) =>
          new Promise((res, rej) => {
            port.write(data, (e) => {
              if (e) return rej(new InfrastructureError(`write to ${path} failed: ${e.message}`));
              port.drain((d) => (d ? rej(new InfrastructureError(`drain of ${path} failed: ${d.message}`)) : res()));
            });
          }),
        close: () =>
          new Promise<void>((res) => {
            closing = true;
            if (!port.isOpen) return res();
            port.close(() => res());
          }),
      });
    });
  });
}

/**
 * A DUT console on a local serial line with `serialport` (115200 8N1 by default): a QEMU
 * `-serial pty`, a /dev/ttyUSB*, one end of a socat PTY pair. See {@link ConsoleSession} for
 * matching, logging and reconnection (off unless `reconnectWindowMs` is set).
 */
export class SerialConsole extends ConsoleSession {
  private constructor(
    readonly path: string,
    baudRate: number,
    options: ConsoleSessionOptions,
  ) {
    super(path, (h) => openSerialTransport(path, baudRate, h), options);
  }

  /**
   * Opens `path` as a serial port.
   * @throws InfrastructureError when the device cannot be opened.
   */
  static async open(path: string, options: SerialConsoleOptions = {}): Promise<SerialConsole> {
    const c = new SerialConsole(path, options.baudRate ?? 115200, options);
    await c.start();
    return c;
  }
}
