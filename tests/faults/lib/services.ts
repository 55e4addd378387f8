/**
 * Private Redis and PostgreSQL servers for the fault-injection suite, on free ports in a temp dir:
 * the suite kills and restarts them, so it must never touch the machine's shared servers.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, createWriteStream, existsSync, mkdirSync, readdirSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../tools/free-port.ts";
export { freePort };

/** Resolves once 127.0.0.1:port accepts TCP connections. @throws Error after `timeoutMs` */
export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1");
      c.once("connect", () => (c.destroy(), r(true)));
      c.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server process we start, kill (data loss is the point) and start again on the same port. */
export interface ManagedServer {
  port: number;
  url: string;
  /** SIGKILL (Redis: every key is lost) or the given signal; resolves once it exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  running(): boolean;
  stop(): Promise<void>;
}

function managed(
  name: string,
  port: number,
  url: string,
  logFile: string,
  cmd: () => { bin: string; args: string[] },
  ready: () => Promise<void>,
  stopSignal: NodeJS.Signals,
): ManagedServer {
  let child: ChildProcess | null = null;
  const out = createWriteStream(logFile, { flags: "a" });
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill(signal);
    await exited;
    child = null;
  };
  return {
    port,
    url,
    running: () => child !== null,
    async start() {
      if (child) return;
      const { bin, args } = cmd();
      child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      child.once("exit", () => (child = null));
      await ready();
    },
    kill,
    async stop() {
      await kill(stopSignal);
      out.end();
    },
  };
}

/**
 * redis-server on a free port, persisting nothing (`save ""`, no AOF): a kill loses every queue.
 */
export async function startPrivateRedis(dir: string): Promise<ManagedServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const s = managed(
    "redis",
    port,
    `redis://127.0.0.1:${port}`,
    path.join(dir, "redis.log"),
    () => ({
      bin: "redis-server",
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"],
    }),
    () => waitForPort(port, 10_000, "redis-server"),
    "SIGTERM",
  );
  await s.start();
  return s;
}

function pgBin(name: string): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(path.join(base, v, "bin", name))) return path.join(base, v, "bin", name);
  return name;
}

/** Runs a command as the `postgres` user when we are root (initdb/postgres refuse root). */
function asPostgres(bin: string, args: string[]): { bin: string; args: string[] } {
  return process.getuid?.() === 0
    ? { bin: "setpriv", args: ["--reuid=postgres", "--regid=postgres", "--init-groups", bin, ...args] }
    : { bin, args };
}

/**
 * A private PostgreSQL cluster (initdb in a temp dir, trust auth) on a free port. fsync is off (a
 * crash of the server process loses nothing the OS already has), but synchronous_commit stays on:
 * with it off, an immediate shutdown loses commits already acknowledged to clients (log batches the
 * worker then dropped) — the suite caught exactly that.
 * `kill("SIGQUIT")` is PostgreSQL's immediate shutdown: a crash as far as clients are concerned;
 * `start()` then runs crash recovery.
 */
export async function startPrivatePostgres(dir: string): Promise<ManagedServer> {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const data = path.join(dir, "data");
  const init = asPostgres(pgBin("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  await new Promise<void>((resolve, reject) => {
    const c = spawn(init.bin, init.args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr?.on("data", (d) => (err += d));
    c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${err}`))));
  });
  const port = await freePort();
  const s = managed(
    "postgres",
    port,
    `postgresql://postgres@127.0.0.1:${port}/postgres`,
    path.join(dir, "postgres.log"),
    () =>
      asPostgres(pgBin("postgres"), [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ]),
    async () => {
      await waitForPort(port, 30_000, "postgres");
      // accepting TCP is not accepting queries during recovery: wait for a real query
      const pg = (await import("pg")).default;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
        try {
          await c.connect();
          await c.query("SELECT 1");
          await c.end();
          return;
        } catch (e) {
          await c.end().catch(() => {});
          if (Date.now() > deadline) throw new Error(`postgres on ${port} did not accept queries: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    "SIGINT",
  );
  await s.start();
  return s;
}

/** A fresh temp dir for one suite run. */
export function tempDir(prefix: string): string {
  const d = path.join(os.tmpdir(), `${prefix}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(d, { recursive: true });
  return d;
}
