import { describe, expect, it } from "vitest";
import { historyChartRows } from "./health-history-data.ts";

const point = (bucket: string, finished: number, infrastructure: number) => ({
  bucket,
  finished,
  infrastructure,
  rate: infrastructure / finished,
});

describe("historyChartRows", () => {
  it("makes one row per bucket, oldest first, one rate in % per series, gaps where a series has no jobs", () => {
    const { lines, rows } = historyChartRows([
      { name: "qemu", history: [point("2026-11-30T06:00:00.000Z", 3, 1), point("2026-11-30T00:00:00.000Z", 2, 0)] },
      { name: "arm", history: [point("2026-11-30T06:00:00.000Z", 8, 1)] },
      { name: "riscv", history: [] },
    ]);
    expect(lines).toEqual(["qemu", "arm"]);
    expect(rows).toEqual([
      { bucket: "2026-11-30T00:00:00.000Z", qemu: 0 },
      { bucket: "2026-11-30T06:00:00.000Z", qemu: 33.3, arm: 12.5 },
    ]);
  });

  it("draws nothing without points", () => {
    expect(historyChartRows([{ name: "lab-a", history: [] }])).toEqual({ lines: [], rows: [] });
  });
});
