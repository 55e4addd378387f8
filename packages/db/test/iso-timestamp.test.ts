import { describe, expect, it } from "vitest";
import { isoFromUtcTimestamp } from "../src/instance/direct-sql.ts";

describe("isoFromUtcTimestamp", () => {
  it("writes PostgreSQL's timestamp text as Date#toISOString() does (milliseconds truncated)", () => {
    for (const s of [
      "2026-01-02 03:04:05",
      "2026-01-02 03:04:05.6",
      "2026-01-02 03:04:05.67",
      "2026-01-02 03:04:05.678",
      "2026-01-02 03:04:05.678999",
      "1999-12-31 23:59:59.999999",
      "0999-06-01 00:00:00.5",
    ])
      expect(isoFromUtcTimestamp(s), s).toBe(new Date(`${s.replace(" ", "T")}Z`).toISOString());
  });

  it("sends years after 9999 and BC dates through pg's timestamptz parser; infinities stay text", () => {
    expect(isoFromUtcTimestamp("10000-01-01 00:00:00.25")).toBe("+010000-01-01T00:00:00.250Z");
    expect(isoFromUtcTimestamp("0044-03-15 12:00:00 BC")).toBe("-000043-03-15T12:00:00.000Z");
    expect(isoFromUtcTimestamp("infinity")).toBe("infinity");
    expect(isoFromUtcTimestamp("-infinity")).toBe("-infinity");
  });
});
