import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_LOG_MSG_CHARS, type TLogRecord, type TLogUpload } from "@magma/protocol";
import { InstanceClient } from "./daemon/instance-client.ts";
import { LogShipper, sanitizeLogMessage } from "./log-shipper.ts";

/**
 * A fake instance log endpoint with LAVA's offset semantics: it stores lines from `index` on,
 * skipping those it already has; `behave` may fail a request (500) or lose the answer after storing.
 */
async function fakeInstance(behave: (n: number) => "ok" | "500" | "store-then-500") {
  const stored: TLogRecord[] = [];
  let requests = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const body = JSON.parse(
      await new Promise<string>((r) => {
        let b = "";
        req.on("data", (d) => (b += d));
        req.on("end", () => r(b));
      }),
    ) as TLogUpload;
    const mode = behave(++requests);
    if (req.headers["lava-token"] !== "job-token") return void res.writeHead(403).end("{}");
    if (mode === "500") return void res.writeHead(500).end("oops");
    const skip = Math.max(0, stored.length - body.index);
    stored.push(...body.lines.slice(skip));
    if (mode === "store-then-500") return void res.writeHead(500).end("lost answer");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ line_count: body.lines.length }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stored, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => closeServer?.());

const rec = (i: number): TLogRecord => ({ dt: "2026-01-01T00:00:00", lvl: "info", msg: `line ${i}` });

describe("LogShipper", () => {
  it("stores every line exactly once although batches fail or lose their answer", async () => {
    const inst = await fakeInstance((n) => (n % 3 === 1 ? "500" : n % 3 === 2 ? "store-then-500" : "ok"));
    closeServer = inst.close;
    const shipper = new LogShipper({ client: new InstanceClient(inst.url), jobId: 5, token: "job-token", flushIntervalMs: 5 });
    for (let i = 0; i < 2500; i++) shipper.push(rec(i));
    await shipper.close(Date.now() + 20_000);
    expect(inst.stored.map((r) => r.msg)).toEqual(Array.from({ length: 2500 }, (_, i) => `line ${i}`));
    expect(shipper.acknowledged).toBe(2500);
    expect(inst.requests()).toBeGreaterThan(3);
  });

  it("close() rejects at its deadline while the instance keeps failing, keeping the lines", async () => {
    const inst = await fakeInstance(() => "500");
    closeServer = inst.close;
    const shipper = new LogShipper({ client: new InstanceClient(inst.url), jobId: 5, token: "job-token", flushIntervalMs: 5 });
    shipper.push(rec(1));
    await expect(shipper.close(Date.now() + 700)).rejects.toThrow(/1 line\(s\) not acknowledged/);
    expect(shipper.pending).toBe(1);
  });

  it("sanitises messages: escapes, invalid surrogates, length", () => {
    expect(sanitizeLogMessage("magma-dut:/# \x1b[6n")).toBe("magma-dut:/# \\x1b[6n");
    expect(sanitizeLogMessage("a\tb\nc\x00")).toBe("a\tb\nc\\x00");
    expect(sanitizeLogMessage("bad \ud800 x")).toBe("bad \ufffd x");
    expect(sanitizeLogMessage("x".repeat(MAX_LOG_MSG_CHARS + 10))).toHaveLength(MAX_LOG_MSG_CHARS);
  });
});
