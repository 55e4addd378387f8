/**
 * LinkPusher's loop with a scripted pushOnce (unit test: no database, the instance context is a
 * stand-in with a silent logger): a failed push is retried, a push that answers "more" is followed at
 * once, wakeUp ends the idle wait, and nothing is pushed once stopped.
 */
import { describe, expect, it } from "vitest";
import type { InstanceContext } from "../context.ts";
import { createLogger } from "../logger.ts";
import { waitUntil } from "../testing/harness.ts";
import { backoffDelayMs, LinkPusher, PUSH_BACKOFF_BASE_MS, PUSH_BACKOFF_MAX_MS } from "./link-pusher.ts";

const ctx = { logger: createLogger("silent") } as unknown as InstanceContext;

/** Answers each pushOnce with the next scripted step: a boolean ("more"), or an Error to throw. */
class ScriptedPusher extends LinkPusher {
  calls = 0;
  constructor(
    private readonly steps: (boolean | Error)[],
    intervalMs: number,
  ) {
    super(ctx, intervalMs, "test");
  }
  override async pushOnce(): Promise<boolean> {
    const step = this.steps[this.calls++] ?? false;
    if (step instanceof Error) throw step;
    return step;
  }
  poke(): void {
    this.wakeUp();
  }
}

describe("backoffDelayMs", () => {
  it("doubles from the base after each failure and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, PUSH_BACKOFF_BASE_MS, PUSH_BACKOFF_MAX_MS))).toEqual([
      500, 1000, 2000, 4000, 8000, 15_000, 15_000,
    ]);
    expect(backoffDelayMs(40, 1000, 60_000)).toBe(60_000);
  });
});

describe("LinkPusher", () => {
  it("pushes again at once while more is due, then waits until woken", async () => {
    // an idle wait of an hour: only wakeUp can start the fourth push
    const p = new ScriptedPusher([true, true, false, false], 3_600_000);
    p.start();
    await waitUntil(() => p.calls === 3, 10_000, "three pushes");
    p.poke();
    await waitUntil(() => p.calls === 4, 10_000, "the push after wakeUp");
    await p.stop();
  });

  it("retries a failed push, and pushes no more once stopped", async () => {
    const p = new ScriptedPusher([new Error("connection reset"), false], 3_600_000);
    p.start();
    await waitUntil(() => p.calls === 2, 10_000, "the retry after the failure");
    await p.stop();
    p.poke();
    p.start();
    await new Promise((r) => setImmediate(r));
    expect(p.calls).toBe(2);
  });
});
