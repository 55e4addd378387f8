import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ZLavaJob } from "@magma/protocol";
import { lavaJobAsPayload, lavaTimeMicros, normaliseLavaTime, parseLavaLogLine } from "../src/server/services/lava-client.ts";
import { parseResults } from "../src/server/services/ingest-callback.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "lava");

describe("LAVA REST helpers (lava-client.ts)", () => {
  it("orders LAVA's times to the microsecond, with or without a fraction", () => {
    expect(lavaTimeMicros("2026-11-23T07:18:23.295262Z") - lavaTimeMicros("2026-11-23T07:18:23.295261Z")).toBe(1);
    expect(lavaTimeMicros("2026-11-23T07:18:23Z")).toBe(Date.parse("2026-11-23T07:18:23Z") * 1000);
    expect(lavaTimeMicros("2026-11-23T07:18:23.5Z")).toBe(Date.parse("2026-11-23T07:18:23Z") * 1000 + 500_000);
  });

  it("normalises end times to six fraction digits so they sort as text", () => {
    expect(normaliseLavaTime("2026-11-23T07:18:23Z")).toBe("2026-11-23T07:18:23.000000Z");
    expect(normaliseLavaTime("2026-11-23T07:18:23.29Z")).toBe("2026-11-23T07:18:23.290000Z");
    expect(normaliseLavaTime("2026-11-23T07:18:23.295262Z")).toBe("2026-11-23T07:18:23.295262Z");
    expect(normaliseLavaTime("2026-11-23T07:18:23Z") < normaliseLavaTime("2026-11-23T07:18:23.000001Z")).toBe(true);
  });

  it("reads output.yaml lines (JSON-style flow mappings, YAML ones, unknown levels) and skips garbage", async () => {
    const lines = (await readFile(path.join(FIXTURES, "job-3-logs-0-15.yaml"), "utf8")).split("\n").filter(Boolean);
    expect(parseLavaLogLine(lines[7]!, 7)).toEqual({
      line: 7,
      dt: "2026-11-23T06:55:15.488296",
      lvl: "results",
      msg: { case: "validate", definition: "lava", result: "pass" },
    });
    expect(parseLavaLogLine("- {dt: '2026-11-23T06:55:15.1', lvl: target, msg: 'login:'}", 3)).toEqual({
      line: 3,
      dt: "2026-11-23T06:55:15.1",
      lvl: "target",
      msg: "login:",
    });
    expect(parseLavaLogLine('- {"dt": "x", "lvl": "future-level", "msg": 42}', 0)).toMatchObject({ lvl: "debug", msg: "42" });
    expect(parseLavaLogLine("- [not, a, record", 0)).toBeNull();
    expect(parseLavaLogLine('- {"lvl": "info"}', 0)).toBeNull();
  });

  it("turns a REST job and its results export into the notify payload LAVA's callback carries", async () => {
    const job = ZLavaJob.parse(JSON.parse(await readFile(path.join(FIXTURES, "job-3.json"), "utf8")));
    const p = lavaJobAsPayload(job, await readFile(path.join(FIXTURES, "job-3-results.yaml"), "utf8"));
    expect(p).toMatchObject({
      id: 3,
      status: 2,
      status_string: "complete",
      state: 5,
      state_string: "Finished",
      health: 1,
      health_string: "Complete",
      end_time: "2026-11-23T06:55:54.800648Z",
      submitter_username: "admin",
      description: "anchor qemu inline tests",
      actual_device_id: "qemu-01",
      metadata: [],
    });
    expect(Object.keys(p.results!).sort()).toEqual(["0_smoke", "1_second", "lava"]);
    const { cases, skipped } = parseResults(p.results);
    expect(skipped).toEqual([]);
    expect(cases).toHaveLength(23);
    expect(cases.find((c) => c.name === "loopback-up")).toMatchObject({ suite: "0_smoke", result: "pass", testSet: "network" });
    expect(lavaJobAsPayload({ ...job, state: "Running", health: "Unknown", end_time: null }, "")).toMatchObject({
      status: 1,
      state: 3,
      health: 0,
      end_time: "None",
      results: {},
    });
  });
});
