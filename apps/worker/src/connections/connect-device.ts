import { spawn } from "node:child_process";
import type { TDeviceDictionary } from "@magma/protocol";
import { ConfigurationError, InfrastructureError } from "../errors.ts";
import { ConsoleSession, type ConsoleSessionOptions, type ConsoleTransport, type TransportHandlers } from "./console-session.ts";
import { openSerialTransport } from "./serial-port.ts";
import { openTelnetTransport, parseTelnetCommand } from "./telnet.ts";
import { maskCommandCredentials } from "../mask-command.ts";

/** Default re-dial window of a dropped device console, in seconds (dictionary `connection_reconnect_seconds`). */
export const DEFAULT_RECONNECT_SECONDS = 20;

/** How the worker reaches a device's console, from its dictionary. */
export type ConsoleSpec =
  | { kind: "telnet"; host: string; port: number; name: string }
  | { kind: "serial"; path: string; baud: number; name: string }
  | { kind: "command"; command: string; name: string };

/**
 * Chooses the console of a device from its dictionary, as LAVA's `connect-device` reads
 * `connection_command`: `telnet HOST PORT` → a telnet client in-process (ser2net); any other
 * command → that command run with `sh -c`, its stdin/stdout as the console; else `serial: {path,
 * baud}` → the local serial line with serialport.
 * @throws ConfigurationError when the dictionary names no console
 */
export function consoleSpec(device: TDeviceDictionary): ConsoleSpec {
  if (device.connection_command) {
    const t = parseTelnetCommand(device.connection_command);
    if (t) return { kind: "telnet", ...t, name: `telnet ${t.host}:${t.port}` };
    return { kind: "command", command: device.connection_command, name: `'${maskCommandCredentials(device.connection_command)}'` };
  }
  if (device.serial) return { kind: "serial", path: device.serial.path, baud: device.serial.baud, name: device.serial.path };
  throw new ConfigurationError(
    `device ${device.hostname} has neither connection_command nor serial in its device dictionary: no way to reach its console`,
  );
}

/** How long a connection command has to exit after SIGHUP/SIGTERM before SIGKILL, in ms. */
export const COMMAND_CLOSE_GRACE_MS = 1_000;

/**
 * Runs `command` with `sh -c` as a console transport (LAVA spawns the connection command under
 * pexpect): its stdout and stderr are read, stdin written; the command exiting closes the link.
 */
function openCommandTransport(command: string, handlers: TransportHandlers): Promise<ConsoleTransport> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    let closing = false;
    child.once("error", (e) =>
      reject(new InfrastructureError(`cannot run connection command '${maskCommandCredentials(command)}': ${e.message}`)),
    );
    child.stdout.on("data", (d: Buffer) => handlers.onData(d));
    child.stderr.on("data", (d: Buffer) => handlers.onData(d));
    child.once("exit", (code, sig) => {
      if (!closing)
        handlers.onClose(
          new InfrastructureError(
            `connection command '${maskCommandCredentials(command)}' exited (${sig ? `signal ${sig}` : `code ${code}`})`,
          ),
        );
    });
    child.once("spawn", () =>
      resolve({
        write: (data) =>
          new Promise((res, rej) =>
            child.stdin.write(data, (e) =>
              e ? rej(new InfrastructureError(`write to '${maskCommandCredentials(command)}' failed: ${e.message}`)) : res(),
            ),
          ),
        close: async () => {
          closing = true;
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once("exit", r));
          const signalGroup = (sig: NodeJS.Signals) => {
            try {
              process.kill(-child.pid!, sig);
            } catch {
              child.kill(sig);
            }
          };
          // pexpect's close(force=True), as LAVA closes a connection command: hang up, then kill what
          // ignores it (an interactive shell ignores SIGTERM, so SIGTERM alone could wait forever)
          child.stdin.end();
          signalGroup("SIGHUP");
          signalGroup("SIGTERM");
          const grace = setTimeout(() => signalGroup("SIGKILL"), COMMAND_CLOSE_GRACE_MS);
          await exited;
          clearTimeout(grace);
        },
      }),
    );
  });
}

/**
 * Opens the console of a device (LAVA's `connect-device`), re-dialling a dropped link for
 * `connection_reconnect_seconds` (default {@link DEFAULT_RECONNECT_SECONDS}).
 * @throws ConfigurationError when the dictionary names no console; InfrastructureError when it cannot be opened
 */
export async function connectDevice(device: TDeviceDictionary, options: ConsoleSessionOptions = {}): Promise<ConsoleSession> {
  const spec = consoleSpec(device);
  const opts: ConsoleSessionOptions = {
    reconnectWindowMs: (device.connection_reconnect_seconds ?? DEFAULT_RECONNECT_SECONDS) * 1000,
    ...options,
  };
  switch (spec.kind) {
    case "telnet":
      return ConsoleSession.create(spec.name, (h) => openTelnetTransport(spec, h), opts);
    case "serial":
      return ConsoleSession.create(spec.name, (h) => openSerialTransport(spec.path, spec.baud, h), opts);
    case "command":
      return ConsoleSession.create(spec.name, (h) => openCommandTransport(spec.command, h), opts);
  }
}
