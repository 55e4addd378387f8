/**
 * Lab plumbing for tests and the demo (test tools, not product code): serial "cables" made of socat
 * PTY pairs, ser2net 4 in front of them, and the power-controller configuration of each simulated
 * board or QEMU DUT. Every helper starts real processes and waits on conditions (a line printed, a
 * port accepting), never on fixed sleeps; `stop()` ends exactly the processes it started, by pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
export { freePort } from "./free-port.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The power-controller script (`power-controller.sh --dir DIR on|off|reset DEVICE`). */
export const POWER_CONTROLLER = path.join(here, "power-controller.sh");
/** The simulated U-Boot board program. */
export const UBOOT_SIM = path.join(here, "uboot-sim.mjs");

/** A running process started by these helpers. */
export interface Started {
  pid: number;
  /** SIGTERM to this process only; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

function track(child: ChildProcess): Started {
  // never outlive the process that started us (a failed demo start, a crashed test file)
  const onParentExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  process.once("exit", onParentExit);
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once("exit", () => r());
  }).then(() => {
    process.off("exit", onParentExit);
  });
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Waits until `child` prints a line matching `re` on stderr or stdout. @throws Error with the output when it exits or `timeoutMs` passes */
function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) done();
    };
    const onExit = () => done(new Error(`${what} exited before it was ready: ${seen.trim()}`));
    const timer = setTimeout(() => done(new Error(`${what} not ready within ${timeoutMs} ms: ${seen.trim()}`)), timeoutMs);
    function done(err?: Error) {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stderr?.on("data", onData);
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** A serial cable: `deviceTty` is the lab's end (ser2net, the worker), `boardTty` the DUT's end. */
export interface SerialCable extends Started {
  deviceTty: string;
  boardTty: string;
}

/**
 * Starts `socat -d -d pty,raw,echo=0,link=<dir>/<name>.tty pty,raw,echo=0,link=<dir>/<name>.board`:
 * a PTY pair with stable names that survives the board end being closed and reopened (power
 * cycles). Killing it is "pulling the serial cable".
 */
export async function startSerialCable(dir: string, name: string): Promise<SerialCable> {
  const deviceTty = path.join(dir, `${name}.tty`);
  const boardTty = path.join(dir, `${name}.board`);
  const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${deviceTty}`, `pty,raw,echo=0,link=${boardTty}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.resume();
  await waitForOutput(child, /starting data transfer loop/, 5000, `socat cable ${name}`);
  return { ...track(child), deviceTty, boardTty };
}

/** One ser2net 4 connection: a telnet port in front of a serial device. */
export interface Ser2netEntry {
  name: string;
  port: number;
  device: string;
  baud?: number;
}

/**
 * ser2net 4 YAML for `entries` (`accepter: telnet,tcp,127.0.0.1,PORT`, `connector:
 * serialdev,DEVICE,<baud>n81,local`, `kickolduser` so a reconnecting worker replaces its stale
 * connection).
 */
export function ser2netConfig(entries: Ser2netEntry[], host = "127.0.0.1"): string {
  return entries
    .map(
      (e) =>
        `connection: &${e.name.replace(/[^A-Za-z0-9_-]/g, "_")}\n` +
        `  accepter: telnet,tcp,${host},${e.port}\n` +
        `  connector: serialdev,${e.device},${e.baud ?? 115200}n81,local\n` +
        `  options:\n    kickolduser: true\n`,
    )
    .join("\n");
}

/** Resolves once `host:port` accepts a TCP connection (closed at once); polls every 50 ms. */
export async function waitForPort(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host, port });
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Writes `<dir>/<name>.yaml` and starts `ser2net -n -u -c FILE` (foreground, no UUCP locks: the
 * devices are PTYs); resolves once every port accepts connections.
 */
export async function startSer2net(dir: string, entries: Ser2netEntry[], name = "ser2net"): Promise<Started & { configFile: string }> {
  const configFile = path.join(dir, `${name}.yaml`);
  writeFileSync(configFile, ser2netConfig(entries));
  const child = spawn("ser2net", ["-n", "-u", "-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let failed: Error | undefined;
  child.once("exit", (code) => (failed = new Error(`ser2net exited (${code}) at start`)));
  child.stdout!.resume();
  child.stderr!.resume();
  try {
    for (const e of entries) {
      await waitForPort(e.port, 5000);
      if (failed) throw failed;
    }
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  return { ...track(child), configFile };
}

/** Power-controller configuration of one device. */
export type PowerDevice =
  { kind: "uboot-sim"; boardTty: string; simArgs?: string[] } | { kind: "qemu"; boardTty: string; qemuArgs: string[] };

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes `<dir>/<device>.conf` for power-controller.sh. */
export function writePowerConfig(dir: string, device: string, d: PowerDevice): void {
  const lines = [`KIND=${d.kind}`, `BOARD_TTY=${q(d.boardTty)}`];
  if (d.kind === "uboot-sim") lines.push(`SIM_ARGS=(${(d.simArgs ?? []).map(q).join(" ")})`);
  else lines.push(`QEMU_ARGS=(${d.qemuArgs.map(q).join(" ")})`);
  writeFileSync(path.join(dir, `${device}.conf`), lines.join("\n") + "\n");
}

/** The dictionary's power commands for `device` driven by power-controller.sh in `dir`. */
export function powerCommands(
  dir: string,
  device: string,
): { power_on_command: string; power_off_command: string; hard_reset_command: string } {
  const cmd = (a: string) => `bash ${q(POWER_CONTROLLER)} --dir ${q(dir)} ${a} ${q(device)}`;
  return { power_on_command: cmd("on"), power_off_command: cmd("off"), hard_reset_command: cmd("reset") };
}
