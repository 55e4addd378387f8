import { describe, expect, it } from "vitest";
import { detailKey, passRate, pivotTrend } from "./trend-data.ts";

describe("passRate", () => {
  it("is pass / (pass + fail) in %, skips ignored, null when nothing passed or failed", () => {
    expect(passRate({ pass: 3, fail: 1 })).toBe(75);
    expect(passRate({ pass: 2, fail: 1 })).toBe(66.7);
    expect(passRate({ pass: 0, fail: 0 })).toBeNull();
  });
});

describe("pivotTrend", () => {
  it("makes one row per bucket in the given order, one rate per lab, gaps where a lab has no point", () => {
    const c = (pass: number, fail: number) => ({ pass, fail, skip: 1 });
    const { labs, rows } = pivotTrend([
      { bucket: "2026-11-01", lab: "lab-b", jobs: 1, counts: c(1, 1) },
      { bucket: "2026-11-01", lab: "lab-a", jobs: 2, counts: c(4, 0) },
      { bucket: "2026-11-02", lab: "lab-a", jobs: 1, counts: c(0, 2) },
    ]);
    expect(labs).toEqual(["lab-a", "lab-b"]);
    expect(rows.map((r) => [r["bucket"], r["lab-a"], r["lab-b"]])).toEqual([
      ["2026-11-01", 100, 50],
      ["2026-11-02", 0, undefined],
    ]);
    expect(rows[0]?.[detailKey("lab-a")]).toMatchObject({ jobs: 2 });
  });
});
