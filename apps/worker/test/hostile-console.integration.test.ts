import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConsoleSession, promptRegExp } from "../src/connections/console-session.ts";
import { openTelnetTransport } from "../src/connections/telnet.ts";
import { JobError } from "../src/errors.ts";
import { parseSignals, SIGNAL_PATTERN } from "../src/dispatcher/actions/test/signals.ts";
import { maxLoopLag, tcpDut, type TcpDut } from "./helpers.ts";

/**
 * Hostile patterns and hostile DUT output against the worker's console layer, over real TCP
 * consoles (a DUT is a TCP server writing what the test wants, as ser2net would).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function dut(): Promise<TcpDut> {
  const d = await tcpDut();
  cleanups.push(d.close);
  return d;
}

async function consoleTo(d: TcpDut, onLine: (l: string) => void = () => {}): Promise<ConsoleSession> {
  const c = await ConsoleSession.create(`dut:${d.port}`, (h) => openTelnetTransport({ host: "127.0.0.1", port: d.port }, h), { onLine });
  cleanups.unshift(() => c.close());
  return c;
}

describe("job patterns on a worker (RE2)", () => {
  it("a catastrophic prompt fails its own wait on time, while another device's prompt on the same worker matches", async () => {
    const a = await dut();
    const b = await dut();
    const ca = await consoleTo(a);
    const cb = await consoleTo(b);
    const sa = await a.socket;
    const sb = await b.socket;
    const { lagMs, value } = await maxLoopLag(async () => {
      const t0 = Date.now();
      // device A: `(a+)+b` against 'aaa…ac' is exponential for a backtracking engine
      const waitA = ca
        .expect([promptRegExp("(a+)+b")], Date.now() + 1500, new AbortController().signal, () => new Error("A timed out"))
        .then(
          () => ({ error: "matched", ms: Date.now() - t0 }),
          (e: Error) => ({ error: e.message, ms: Date.now() - t0 }),
        );
      const waitB = cb
        .expect([promptRegExp("magma-dut:/# ")], Date.now() + 10_000, new AbortController().signal)
        .then(() => Date.now() - t0);
      for (let i = 0; i < 8; i++) sa.write("a".repeat(8 * 1024));
      sa.write("c");
      setTimeout(() => sb.write("booting\r\nmagma-dut:/# "), 200);
      return { a: await waitA, bMs: await waitB };
    });
    expect(value.a.error).toBe("A timed out");
    expect(value.a.ms).toBeLessThan(4000);
    expect(value.bMs).toBeLessThan(3000);
    expect(lagMs).toBeLessThan(500);
  });

  it("a prompt with a backreference that skipped submission is refused by the worker with a JobError", () => {
    expect(() => promptRegExp("(\\w+)@\\1# ")).toThrow(JobError);
    expect(() => promptRegExp("(\\w+)@\\1# ")).toThrow(/backreferences.*\(RE2\)/);
  });
});

describe("the worker's own signal parsing", () => {
  it("finds exactly what LAVA's signal regex finds", () => {
    const samples = [
      "magma-dut:/# \u001b[6n<LAVA_SIGNAL_STARTRUN 0_smoke 3_1.1.3.1>",
      "<LAVA_SIGNAL_STARTTC a><LAVA_SIGNAL_ENDTC a>",
      "<LAVA_SIGNAL_ <LAVA_SIGNAL_X y> <LAVA_SIGNAL_Z\t1> <LAVA_SIGNAL_A>B c> <LAVA_SIGNAL_Q  >",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass",
      "<LAVA_SIGNAL_<LAVA_SIGNAL_N p>",
    ];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const parts = ["<LAVA_SIGNAL_", "A", " ", ">", "x", "\t", "<", "=", "TESTCASE"];
    for (let i = 0; i < 2000; i++) samples.push(Array.from({ length: rnd(12) }, () => parts[rnd(parts.length)]).join(""));
    for (const line of samples) {
      const expected = [...line.matchAll(SIGNAL_PATTERN)].map((m) => ({ name: m[1], params: m[2]!.trim() }));
      expect(parseSignals(line), JSON.stringify(line)).toEqual(expected);
    }
  });

  it("is linear in the line length: a 64 KiB line of signal starts that never complete parses in milliseconds", () => {
    for (const unit of ["<LAVA_SIGNAL_", "<LAVA_SIGNAL_X ", "<LAVA_SIGNAL_X y"]) {
      const line = unit.repeat(Math.floor((64 * 1024) / unit.length));
      const t0 = performance.now();
      parseSignals(line);
      expect(performance.now() - t0, unit).toBeLessThan(100);
    }
  });
});
