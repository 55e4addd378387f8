import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit.ts";

/** A `run` whose calls stay open until released, recording each call's items. */
function gatedRun(fail: (item: number) => boolean = () => false) {
  const calls: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]) => {
    calls.push(items);
    await new Promise<void>((r) => gates.push(r));
    if (items.some(fail)) throw new Error(`bad item in ${items.join(",")}`);
    return items.map((i) => i * 10);
  };
  /** Releases every open call. */
  const release = () => gates.splice(0).forEach((g) => g());
  return { calls, run, release };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("GroupCommit", () => {
  it("runs a lone item at once and batches what arrives while the slots are busy", async () => {
    const g = gatedRun();
    const gc = new GroupCommit(g.run, { maxBatch: 3, maxInFlight: 1 });
    const first = gc.submit(1);
    expect(g.calls).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((i) => gc.submit(i));
    expect(gc.waiting).toBe(4);
    g.release();
    expect(await first).toBe(10);
    await tick();
    expect(g.calls).toEqual([[1], [2, 3, 4]]);
    g.release();
    await tick();
    g.release();
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50]);
    expect(g.calls).toEqual([[1], [2, 3, 4], [5]]);
  });

  it("keeps at most maxInFlight runs open", async () => {
    const g = gatedRun();
    const gc = new GroupCommit(g.run, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => gc.submit(i));
    expect(g.calls).toEqual([[1], [2]]);
    g.release();
    await tick();
    expect(g.calls).toEqual([[1], [2], [3, 4], [5]]);
    g.release();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
  });

  it("re-runs a failed batch item by item: only the faulty item fails", async () => {
    const g = gatedRun((i) => i === 3);
    const gc = new GroupCommit(g.run, { maxBatch: 4, maxInFlight: 1 });
    const first = gc.submit(1);
    const rest = [2, 3, 4].map((i) => gc.submit(i).then(String, (e: Error) => e.message));
    g.release();
    await first;
    // the batch [2,3,4] fails, then each runs alone
    for (let k = 0; k < 5; k++) {
      await tick();
      g.release();
    }
    expect(await Promise.all(rest)).toEqual(["20", "bad item in 3", "40"]);
    expect(g.calls).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it("refuses a batch size or slot count below 1", () => {
    expect(() => new GroupCommit(async (x: number[]) => x, { maxBatch: 0, maxInFlight: 1 })).toThrow(/≥ 1/);
  });
});
