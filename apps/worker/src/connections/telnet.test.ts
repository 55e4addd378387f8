import net from "node:net";
import { describe, expect, it } from "vitest";
import { ConsoleSession } from "./console-session.ts";
import { openTelnetTransport, parseTelnetCommand, TelnetCodec } from "./telnet.ts";

const IAC = 255,
  DO = 253,
  DONT = 254,
  WILL = 251,
  WONT = 252,
  SB = 250,
  SE = 240;

describe("TelnetCodec", () => {
  it("answers ser2net's negotiation once, strips IAC sequences and keeps escaped 0xFF bytes", () => {
    const c = new TelnetCodec();
    // ser2net 4: WILL SGA, DO SGA, WILL ECHO, DONT ECHO, DO BINARY, WILL BINARY
    const { data, reply } = c.decode(Buffer.from([IAC, WILL, 3, IAC, DO, 3, IAC, WILL, 1, IAC, DONT, 1, IAC, DO, 0, IAC, WILL, 0, 0x41]));
    expect([...data]).toEqual([0x41]);
    expect([...reply]).toEqual([IAC, DO, 3, IAC, WILL, 3, IAC, DO, 1, IAC, WILL, 0, IAC, DO, 0]);
    // asked again: already in that state, no answer (no negotiation loop)
    expect([...c.decode(Buffer.from([IAC, WILL, 3, IAC, DO, 0])).reply]).toEqual([]);
    // refused options: DO TERMINAL-TYPE → WONT, WILL STATUS → DONT
    expect([...c.decode(Buffer.from([IAC, DO, 24, IAC, WILL, 5])).reply]).toEqual([IAC, WONT, 24, IAC, DONT, 5]);
    // subnegotiation skipped, IAC IAC is a data byte, CR NUL is CR
    expect([...c.decode(Buffer.from([0x61, IAC, SB, 44, 1, 2, IAC, SE, 0x62, IAC, IAC, 13, 0, 0x63])).data]).toEqual([
      0x61, 0x62, 0xff, 13, 0x63,
    ]);
  });

  it("keeps its state across chunk boundaries and escapes 0xFF on the way out", () => {
    const c = new TelnetCodec();
    expect([...c.decode(Buffer.from([0x61, IAC])).data]).toEqual([0x61]);
    const r = c.decode(Buffer.from([WILL]));
    expect([...r.data, ...r.reply]).toEqual([]);
    expect([...c.decode(Buffer.from([1, 0x62])).reply]).toEqual([IAC, DO, 1]);
    expect([...c.encode(Buffer.from([1, 0xff, 2]))]).toEqual([1, 0xff, 0xff, 2]);
  });
});

describe("parseTelnetCommand", () => {
  it("reads LAVA connection commands", () => {
    expect(parseTelnetCommand("telnet 127.0.0.1 7001")).toEqual({ host: "127.0.0.1", port: 7001 });
    expect(parseTelnetCommand("/usr/bin/telnet -8 -e x serial-server 2003")).toEqual({ host: "serial-server", port: 2003 });
    expect(parseTelnetCommand("telnet lab-host")).toEqual({ host: "lab-host", port: 23 });
    expect(parseTelnetCommand("ssh -t lab-host console")).toBeUndefined();
    expect(parseTelnetCommand("telnet host notaport")).toBeUndefined();
  });
});

describe("ConsoleSession over telnet", () => {
  it("re-dials a dropped connection and keeps waiting for the prompt", async () => {
    let n = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      n++;
      sockets.add(s);
      s.write(Buffer.from([IAC, WILL, 1]));
      // the first connection drops before the prompt; the second one shows it
      if (n === 1) s.end("booting...\r\n");
      else s.write("login ok\r\nroot@dut:~# ");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const lines: string[] = [];
    const events: string[] = [];
    const c = await ConsoleSession.create(`telnet 127.0.0.1:${port}`, (h) => openTelnetTransport({ host: "127.0.0.1", port }, h), {
      reconnectWindowMs: 5000,
      onLine: (l) => lines.push(l),
      onEvent: (m) => events.push(m),
    });
    const m = await c.expect([/root@dut:~# /], Date.now() + 5000, new AbortController().signal);
    expect(m.index).toBe(0);
    expect(lines).toContain("booting...");
    expect(events[0]).toMatch(
      /^connection to telnet 127\.0\.0\.1:\d+ lost \(telnet 127\.0\.0\.1:\d+ closed by the remote end\); reconnecting for up to 5 s$/,
    );
    await c.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
