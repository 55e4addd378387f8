import { describe, expect, it } from "vitest";
import { formatLogLine, pyDatetime, pyJson } from "./format.ts";
import { substituteUrl } from "./substitute-url.ts";
import { criteriaMatches } from "./enqueue-callbacks.ts";
import { urlencodePayload } from "./build-payload.ts";
import { backoffMs, BACKOFF_MAX_MS } from "./outbox-sender.ts";

describe("python formats", () => {
  it("str(datetime) with +00:00 and microseconds, None for null", () => {
    expect(pyDatetime(new Date("2026-11-23T06:56:30.291Z"))).toBe("2026-11-23 06:56:30.291000+00:00");
    expect(pyDatetime(new Date("2026-11-23T06:56:30.000Z"))).toBe("2026-11-23 06:56:30+00:00");
    expect(pyDatetime(null)).toBe("None");
  });
  it("json.dumps separators and a LAVA output.yaml line", () => {
    expect(pyJson({ a: [1, "x"], b: { c: null } })).toBe('{"a": [1, "x"], "b": {"c": null}}');
    expect(formatLogLine({ dt: "2026-11-23T06:55:15.451656", lvl: "info", msg: "start: 0 validate" })).toBe(
      '- {"dt": "2026-11-23T06:55:15.451656", "lvl": "info", "msg": "start: 0 validate"}',
    );
  });
});

describe("callback URL and criteria", () => {
  const job = {
    id: 7,
    state: "Finished",
    health: "Complete",
    priority: 50,
    description: "a b",
    submitTime: new Date(0),
    startTime: null,
    endTime: null,
    healthCheck: false,
  } as const;
  it("substitutes LAVA placeholders, leaves unknown ones", () => {
    expect(substituteUrl("http://x/{ID}/{STATUS}/{STATUS_STRING}/{ STATE }/{HEALTH}/{NOPE}/{DESCRIPTION}", job)).toBe(
      "http://x/7/2/complete/5/1/{NOPE}/a%20b",
    );
  });
  it("matches criteria.status as LAVA", () => {
    expect(criteriaMatches("running", { state: "Running", health: "Unknown" })).toBe(true);
    expect(criteriaMatches("finished", { state: "Running", health: "Unknown" })).toBe(false);
    expect(criteriaMatches("all", { state: "Running", health: "Unknown" })).toBe(true);
    expect(criteriaMatches("complete", { state: "Finished", health: "Incomplete" })).toBe(false);
    expect(criteriaMatches("incomplete", { state: "Finished", health: "Incomplete" })).toBe(true);
    expect(criteriaMatches("canceled", { state: "Finished", health: "Canceled" })).toBe(true);
  });
  it("urlencodes like python-requests data=dict", () => {
    expect(urlencodePayload({ id: 1, failure_comment: null, metadata: [], results: { lava: "-", "0_a": "-" } })).toBe(
      "id=1&results=lava&results=0_a",
    );
  });
});

describe("backoff", () => {
  it("grows exponentially from 1 s with jitter, capped at 5 min", () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(50, () => 1)).toBe(BACKOFF_MAX_MS);
  });
});
