import { describe, expect, it } from "vitest";
import { logText } from "./log-text.ts";

describe("logText", () => {
  it("strips ANSI colour, cursor and OSC sequences and control characters, keeps tabs", () => {
    expect(logText("\x1b[1;32mOK\x1b[0m\tdone\r")).toBe("OK\tdone\n");
    expect(logText("\x1b]0;title\x07prompt\x1b[2K\x1b[1G# \x00\x07")).toBe("prompt# ");
  });
  it("leaves markup as text (React renders it escaped)", () => {
    expect(logText("<script>alert(1)</script>")).toBe("<script>alert(1)</script>");
  });
  it("serialises results records", () => {
    expect(logText({ case: "x", result: "pass" })).toBe('{"case":"x","result":"pass"}');
  });
});
