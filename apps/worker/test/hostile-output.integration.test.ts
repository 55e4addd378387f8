import dgram from "node:dgram";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ConsoleSession, LINE_CUT_MARKER, MAX_LINE_CHARS, promptRegExp } from "../src/connections/console-session.ts";
import { openTelnetTransport } from "../src/connections/telnet.ts";
import { HttpFileServer } from "../src/services/http-file-server.ts";
import { TftpServer } from "../src/services/tftp-server.ts";
import { maxLoopLag, tcpDut, type TcpDut } from "./helpers.ts";

/**
 * A noisy or malicious DUT cannot take the worker down: over-long console lines are cut, floods of
 * lines leave other consoles responsive, and the worker's HTTP and TFTP servers answer malformed
 * requests with errors instead of throwing. Real TCP consoles, real HTTP and UDP servers.
 */

const tmp = mkdtempSync(path.join(os.tmpdir(), "magma-hostile-output-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A DUT console, closed after the test. */
async function dut(): Promise<TcpDut> {
  const d = await tcpDut();
  cleanups.push(d.close);
  return d;
}

async function consoleTo(port: number, onLine: (l: string) => void, onEvent: (m: string) => void = () => {}): Promise<ConsoleSession> {
  const c = await ConsoleSession.create(`dut:${port}`, (h) => openTelnetTransport({ host: "127.0.0.1", port }, h), { onLine, onEvent });
  cleanups.unshift(() => c.close());
  return c;
}

/** Writes `data` to a socket in `chunk`-sized writes, respecting back-pressure. */
async function writeAll(s: net.Socket, data: string, chunk = 16 * 1024): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) {
    if (!s.write(data.slice(i, i + chunk))) await new Promise((r) => s.once("drain", r));
  }
}

describe("console output bounds", () => {
  it("a 5 MB line without newline is cut at 64 KiB with a marker; the rest is dropped and counted; another console stays responsive", async () => {
    const a = await dut();
    const b = await dut();
    const lines: string[] = [];
    const events: string[] = [];
    const ca = await consoleTo(
      a.port,
      (l) => lines.push(l),
      (m) => events.push(m),
    );
    const cb = await consoleTo(b.port, () => {});
    const sa = await a.socket;
    const sb = await b.socket;
    const { lagMs } = await maxLoopLag(async () => {
      const started = performance.now();
      const flood = writeAll(sa, "x".repeat(5 * 1024 * 1024));
      setTimeout(() => sb.write("magma-dut:/# "), 100);
      const bMatched = await cb
        .expect([promptRegExp("magma-dut:/# ")], Date.now() + 10_000, new AbortController().signal)
        .then(() => performance.now() - started);
      await flood;
      sa.write("\nafter the long line\n");
      await ca.expect([/after the long line\n/], Date.now() + 20_000, new AbortController().signal);
      expect(bMatched).toBeLessThan(5000);
    });
    expect(lines[0]).toBe("x".repeat(MAX_LINE_CHARS) + LINE_CUT_MARKER);
    expect(lines[1]).toBe("after the long line");
    expect(lines).toHaveLength(2);
    expect(events).toContain(
      `dropped ${5 * 1024 * 1024 - MAX_LINE_CHARS} characters of a console line longer than ${MAX_LINE_CHARS} characters`,
    );
    expect(lagMs).toBeLessThan(1000);
  });

  it("a burst of 200 000 lines is logged line by line while another console's prompt still matches promptly", async () => {
    const a = await dut();
    const b = await dut();
    let count = 0;
    const ca = await consoleTo(a.port, () => count++);
    const cb = await consoleTo(b.port, () => {});
    const sa = await a.socket;
    const sb = await b.socket;
    const { lagMs, value } = await maxLoopLag(async () => {
      const started = performance.now();
      const flood = writeAll(sa, Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join(""));
      setTimeout(() => sb.write("magma-dut:/# "), 50);
      const bMs = await cb
        .expect([promptRegExp("magma-dut:/# ")], Date.now() + 10_000, new AbortController().signal)
        .then(() => performance.now() - started);
      await flood;
      sa.write("END-OF-BURST\n");
      await ca.expect([promptRegExp("END-OF-BURST")], Date.now() + 30_000, new AbortController().signal);
      return { bMs, allMs: performance.now() - started };
    });
    expect(count).toBe(200_001);
    expect(value.bMs).toBeLessThan(3000);
    expect(lagMs).toBeLessThan(1000);
  });
});

/** Sends one raw HTTP request and returns the status line. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(request));
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
    s.on("error", reject);
  });
}

describe("the worker's HTTP and TFTP servers against malformed requests", () => {
  it("HTTP: a bad %-escape or a traversal gets a 4xx and the server keeps serving", async () => {
    const file = path.join(tmp, "overlay.tar.gz");
    writeFileSync(file, "overlay");
    const messages: string[] = [];
    const server = await HttpFileServer.start({ host: "127.0.0.1", port: 0, onRequest: (m) => messages.push(m) });
    cleanups.push(() => server.close());
    server.publish("/tmp/1/overlay.tar.gz", file);
    expect(await rawHttp(server.port, "GET /tmp/1/%E0%A4%A HTTP/1.0\r\n\r\n")).toBe("HTTP/1.1 400 Bad Request");
    expect(await rawHttp(server.port, "GET /%ZZ HTTP/1.0\r\n\r\n")).toBe("HTTP/1.1 400 Bad Request");
    expect(await rawHttp(server.port, "GET /tmp/1/../../../etc/passwd HTTP/1.0\r\n\r\n")).toBe("HTTP/1.1 404 Not Found");
    expect(await rawHttp(server.port, "GET /tmp/1/%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n")).toBe("HTTP/1.1 404 Not Found");
    expect(messages).toContainEqual(
      expect.stringMatching(/^refused a malformed request target from 127\.0\.0\.1:\d+ \(400 URI malformed\)$/),
    );
    const res = await fetch(`http://127.0.0.1:${server.port}/tmp/1/overlay.tar.gz`);
    expect(await res.text()).toBe("overlay");
  });

  it("TFTP: short packets, empty names, directories and traversals get TFTP errors; a later transfer still works", async () => {
    const root = path.join(tmp, "tftp");
    mkdirSync(path.join(root, "kernel"), { recursive: true });
    writeFileSync(path.join(root, "kernel", "zImage"), Buffer.alloc(1500, 7));
    writeFileSync(path.join(tmp, "secret"), "host file");
    const messages: string[] = [];
    const server = await TftpServer.start({ root, host: "127.0.0.1", port: 0, onTransfer: (m) => messages.push(m) });
    cleanups.push(() => server.close());
    const client = dgram.createSocket("udp4");
    await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => client.close(() => r())));
    const packets: Buffer[] = [];
    let waiter: (() => void) | undefined;
    client.on("message", (m) => {
      packets.push(m);
      waiter?.();
    });
    const ask = async (buf: Buffer): Promise<{ op: number; code: number; text: string }> => {
      const n = packets.length;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to ${buf.toString("hex")}`)), 3000);
        waiter = () => {
          if (packets.length > n) {
            clearTimeout(t);
            resolve();
          }
        };
        client.send(buf, server.port, "127.0.0.1");
      });
      const p = packets[n]!;
      return { op: p.readUInt16BE(0), code: p.readUInt16BE(2), text: p.subarray(4).toString("ascii").replace(/\0.*$/s, "") };
    };
    const rrq = (name: string) => Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${name}\0octet\0`, "ascii")]);
    expect(await ask(Buffer.from([0]))).toEqual({ op: 5, code: 4, text: "Malformed packet" });
    expect(await ask(Buffer.from([0, 1, 0]))).toEqual({ op: 5, code: 4, text: "Malformed packet" });
    expect(await ask(rrq(""))).toEqual({ op: 5, code: 4, text: "Malformed request: no file name" });
    expect(await ask(rrq("kernel"))).toEqual({ op: 5, code: 1, text: "File not found" });
    expect(await ask(rrq("../secret"))).toEqual({ op: 5, code: 2, text: "Access violation" });
    expect(await ask(rrq("/../../secret"))).toEqual({ op: 5, code: 2, text: "Access violation" });
    expect(await ask(Buffer.from([0, 9, 0, 0]))).toEqual({ op: 5, code: 4, text: "Illegal TFTP operation" });
    // a real transfer still works: first DATA block of kernel/zImage
    const data = await ask(rrq("kernel/zImage"));
    expect(data).toMatchObject({ op: 3, code: 1 });
    expect(messages.some((m) => m.includes("not a file"))).toBe(true);
  });
});
