import { execFileSync } from "node:child_process";
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ZDeviceDictionary, type TJobDefinition, type TLogRecord, type TResultMessage } from "@magma/protocol";
import { JobLog } from "../src/dispatcher/job-log.ts";
import type { JobContext } from "../src/dispatcher/job.ts";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Runs infra/dut/build-dut.sh and returns the directory holding vmlinuz and initramfs.cpio.gz. */
export function buildDut(): string {
  execFileSync("bash", [path.join(repoRoot, "infra/dut/build-dut.sh")], { stdio: "pipe" });
  return path.join(repoRoot, ".magma", "dut");
}

/**
 * A job context for running single actions outside the daemon, as the dispatcher builds one: job 1,
 * an empty definition, a `qemu` device named `q`, no images, worker `w`, TFTP bound to 127.0.0.1 on
 * any free port, a job deadline 60 s from now. `fields` replaces any of these (and sets optional
 * fields such as `imageCache` or `maxDownloadBytes`); the job directory is not created.
 * @param jobDir the job's directory
 * @param log receives every log record of the job (default: dropped)
 */
export function jobContext(jobDir: string, log?: TLogRecord[], fields: Partial<JobContext> = {}): JobContext {
  return {
    jobId: 1,
    jobDir,
    definition: { actions: [] } as unknown as TJobDefinition,
    device: ZDeviceDictionary.parse({ device_type: "qemu", hostname: "q" }),
    log: new JobLog((r) => log?.push(r)),
    images: new Map(),
    imageArgs: new Map(),
    lineListeners: new Set(),
    jobDeadlineMs: Date.now() + 60_000,
    workerName: "w",
    tftpBind: { ip: "127.0.0.1", port: 0 },
    ...fields,
  };
}

/** A DUT console stand-in: its TCP port, its socket once the worker connects, and `close`. */
export interface TcpDut {
  port: number;
  /** the first connection's socket (resolves when the worker connects) */
  socket: Promise<net.Socket>;
  /** destroys every connection and closes the server */
  close: () => Promise<void>;
}

/**
 * A DUT console as ser2net would serve it: a TCP server on 127.0.0.1:<port 0> whose first
 * connection's socket the test writes to (socket errors ignored: the worker may cut the line).
 */
export async function tcpDut(): Promise<TcpDut> {
  let resolve!: (s: net.Socket) => void;
  const socket = new Promise<net.Socket>((r) => (resolve = r));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    resolve(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port, socket, close };
}

/**
 * A QEMU job (YAML) that boots the test DUT from `imagesUrl` (vmlinuz, initramfs.cpio.gz, as
 * {@link serveDir} serves {@link buildDut}'s output) and runs one test action.
 * @param jobName the job's name
 * @param definitions the test action's `definitions:` list items, already indented by four spaces
 */
export function testDefinitionJob(imagesUrl: string, jobName: string, definitions: string): string {
  return [
    "device_type: qemu",
    `job_name: ${jobName}`,
    "visibility: public",
    "timeouts: {job: {minutes: 10}, action: {minutes: 5}}",
    "actions:",
    "- deploy:",
    "    to: tmpfs",
    "    images:",
    `      kernel: {url: "${imagesUrl}/vmlinuz", image_arg: '-kernel {kernel} -append "console=ttyS0,115200"'}`,
    `      initrd: {url: "${imagesUrl}/initramfs.cpio.gz", image_arg: "-initrd {initrd}"}`,
    "- boot: {method: qemu, media: tmpfs, prompts: ['magma-dut:/# '], timeout: {minutes: 2}}",
    "- test:",
    "    definitions:",
    definitions,
  ].join("\n");
}

/** The `results` records of a job's log, in order (their messages). */
export const resultsOf = (log: TLogRecord[]) =>
  log.filter((r) => r.lvl === "results").map((r) => r.msg as TResultMessage & Record<string, unknown>);

/** A static file server on 127.0.0.1:<port 0> serving `dir`; 404 for anything missing. */
export async function serveDir(dir: string): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const file = path.join(dir, path.basename(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** PIDs of qemu-system processes whose command line mentions `needle` (read from /proc). */
export function qemuPidsMentioning(needle: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes("qemu-system") && l.includes(needle))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/**
 * Runs `during` while a 20 ms interval timer samples the event loop: `lagMs` is the worst delay of a
 * tick beyond its 20 ms, i.e. how long the worker's event loop was blocked.
 */
export async function maxLoopLag<T>(during: () => Promise<T>): Promise<{ lagMs: number; value: T }> {
  let last = performance.now();
  let lagMs = 0;
  const t = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 20);
    last = now;
  }, 20);
  try {
    const value = await during();
    return { lagMs, value };
  } finally {
    clearInterval(t);
  }
}
