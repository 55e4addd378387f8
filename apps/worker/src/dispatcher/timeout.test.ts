import { describe, expect, it } from "vitest";
import type { TJobTimeouts } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "./action.ts";
import { ActionTimeoutError } from "../errors.ts";
import { JobLog } from "./job-log.ts";
import type { JobContext } from "./job.ts";
import { Pipeline } from "./pipeline.ts";
import { DEFAULT_ACTION_TIMEOUT_MS, formatHms, raceSignal, resolveTimeoutMs } from "./timeout.ts";

const timeouts: TJobTimeouts = { job: { minutes: 15 }, action: { minutes: 5 }, actions: { "http-download": { seconds: 42 } } };

describe("resolveTimeoutMs (LAVA precedence)", () => {
  it("own timeout > timeouts.actions.<name> > inherited > timeouts.action > default", () => {
    expect(resolveTimeoutMs({ name: "http-download", own: { seconds: 7 }, timeouts })).toBe(7000);
    expect(resolveTimeoutMs({ name: "http-download", inheritedMs: 99_000, timeouts })).toBe(42_000);
    expect(resolveTimeoutMs({ name: "lava-overlay", inheritedMs: 99_000, timeouts })).toBe(99_000);
    expect(resolveTimeoutMs({ name: "deployimages", timeouts })).toBe(300_000);
    expect(resolveTimeoutMs({ name: "deployimages", timeouts: { job: { minutes: 1 } } })).toBe(DEFAULT_ACTION_TIMEOUT_MS);
    expect(resolveTimeoutMs({ name: "power-off", inheritedMs: 300_000, timeouts, fixedDefaultMs: 10_000 })).toBe(10_000);
    expect(
      resolveTimeoutMs({ name: "power-off", timeouts: { ...timeouts, actions: { "power-off": { seconds: 3 } } }, fixedDefaultMs: 10_000 }),
    ).toBe(3000);
  });
  it("formats HH:MM:SS", () => {
    expect(formatHms(0)).toBe("00:00:00");
    expect(formatHms(299_999)).toBe("00:04:59");
    expect(formatHms(90_061_000)).toBe("25:01:01");
  });
});

class Sleepy extends Action {
  static readonly name = "sleepy";
  static readonly description = "waits for its signal";
  static readonly summary = "sleepy";
  async run({ signal }: ActionRunOptions): Promise<Connection> {
    // an action that only stops when its deadline aborts it
    await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    return undefined;
  }
}

function ctx(records: unknown[]): JobContext {
  return {
    jobId: 1,
    jobDir: "/nonexistent",
    log: new JobLog((r) => records.push(r)),
    images: new Map(),
    imageArgs: new Map(),
    lineListeners: new Set(),
    jobDeadlineMs: Date.now() + 60_000,
    workerName: "w",
  } as unknown as JobContext;
}

describe("Pipeline deadlines", () => {
  it("times an action out with '<name> timed out after N seconds' and a fail result", async () => {
    const records: { lvl: string; msg: unknown }[] = [];
    const p = new Pipeline().add(new Sleepy(), { job: { minutes: 1 }, actions: { sleepy: { seconds: 1 } } });
    const err = await p.run(ctx(records), undefined, Date.now() + 60_000, new AbortController().signal).catch((e) => e);
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(err.message).toBe("sleepy timed out after 1 seconds");
    expect(err.errorType).toBe("LAVATimeout");
    expect(records.some((r) => r.msg === "start: 1 sleepy (timeout 00:00:01) [common]")).toBe(true);
    expect(records.find((r) => r.lvl === "results")?.msg).toMatchObject({
      definition: "lava",
      case: "sleepy",
      result: "fail",
      level: "1",
      namespace: "common",
    });
  });
  it("caps an action by its parent's deadline and keeps the parent's error", async () => {
    const records: { lvl: string; msg: unknown }[] = [];
    const p = new Pipeline().add(new Sleepy(), { job: { minutes: 1 }, action: { minutes: 5 } });
    const parent = new AbortController();
    setTimeout(() => parent.abort(new ActionTimeoutError("job timed out after 1 seconds")), 200);
    const err = await p.run(ctx(records), undefined, Date.now() + 1000, parent.signal).catch((e) => e);
    expect(err.message).toBe("job timed out after 1 seconds");
    expect(
      records.some(
        (r) => r.msg === "start: 1 sleepy (timeout 00:00:01) [common]" || r.msg === "start: 1 sleepy (timeout 00:00:00) [common]",
      ),
    ).toBe(true);
  });
});

describe("raceSignal", () => {
  it("with a signal already aborted, rejects with its reason and still observes the started work's own rejection", async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error("The job was canceled"));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      let rejectWork!: (e: Error) => void;
      const work = new Promise<never>((_, reject) => (rejectWork = reject));
      await expect(raceSignal(work, ctrl.signal)).rejects.toThrow("The job was canceled");
      rejectWork(new Error("the action saw the abort too"));
      // Node reports unhandled rejections after the microtask queue drains: one macrotask later
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
