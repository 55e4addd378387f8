import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "./env.ts";
import { extractResult } from "./logs/extract-result.ts";
import { renderDeviceDictionary } from "./devices/render-device-dictionary.ts";
import { parseLabFile } from "./seed/lab-file.ts";

describe("env", () => {
  it("has local defaults", () => {
    expect(loadConfig({})).toMatchObject({
      name: "lab-a",
      host: "127.0.0.1",
      port: 4001,
      publicUrl: "http://127.0.0.1:4001",
      federationCallbackUrl: null,
      workerOfflineAfterMs: 60_000,
      liveResultsIntervalMs: 1000,
    });
  });
  it("names the bad variable", () => {
    expect(() => loadConfig({ MAGMA_INSTANCE_PORT: "99999" })).toThrow(/MAGMA_INSTANCE_PORT/);
    expect(() => loadConfig({ MAGMA_FEDERATION_CALLBACK_URL: "nope" })).toThrow(/MAGMA_FEDERATION_CALLBACK_URL/);
    expect(() => loadConfig({ MAGMA_LIVE_RESULTS_INTERVAL_MS: "-1" })).toThrow(/MAGMA_LIVE_RESULTS_INTERVAL_MS/);
    expect(loadConfig({ MAGMA_LIVE_RESULTS_INTERVAL_MS: "0" }).liveResultsIntervalMs).toBe(0);
  });

  it("reads an outbound-only lab's frontend URL and enrollment token, and refuses contradictory settings", () => {
    expect(
      loadConfig({ MAGMA_FEDERATION_URL: "https://fed.example/", MAGMA_ENROLLMENT_TOKEN: "magma-enroll-0123456789abcdef" }),
    ).toMatchObject({
      federationUrl: "https://fed.example",
      enrollmentToken: "magma-enroll-0123456789abcdef",
      federationCallbackUrl: null,
    });
    expect(() => loadConfig({ MAGMA_FEDERATION_URL: "ftp://x" })).toThrow(/MAGMA_FEDERATION_URL/);
    expect(() => loadConfig({ MAGMA_FEDERATION_URL: "http://f", MAGMA_ENROLLMENT_TOKEN: "short" })).toThrow(/MAGMA_ENROLLMENT_TOKEN/);
    expect(() => loadConfig({ MAGMA_ENROLLMENT_TOKEN: "magma-enroll-0123456789abcdef" })).toThrow(
      "MAGMA_ENROLLMENT_TOKEN needs MAGMA_FEDERATION_URL",
    );
    expect(() => loadConfig({ MAGMA_FEDERATION_URL: "http://f", MAGMA_FEDERATION_CALLBACK_URL: "http://f/api/callbacks/x" })).toThrow(
      "exclude each other",
    );
  });
});

describe("extractResult", () => {
  it("reads a LAVA results record", () => {
    expect(
      extractResult({
        case: "boot-time",
        definition: "0_smoke",
        result: "pass",
        measurement: 1.83,
        units: "seconds",
        starttc: 1,
        endtc: 2,
      }),
    ).toMatchObject({
      suite: "0_smoke",
      name: "boot-time",
      result: "pass",
      measurement: "1.83",
      units: "seconds",
      startLogLine: 1,
      endLogLine: 2,
    });
  });
  it("stores a lava-suite action's duration as its measurement in seconds, as LAVA does", () => {
    expect(extractResult({ case: "execute-qemu", definition: "lava", result: "pass", level: "2.1", duration: "4.52" })).toMatchObject({
      suite: "lava",
      name: "execute-qemu",
      measurement: "4.52",
      units: "seconds",
    });
    expect(extractResult({ case: "x", definition: "0_smoke", result: "pass", duration: "4.52" })).toMatchObject({
      measurement: null,
      units: "",
    });
  });
  it("refuses bad results and bad measurements with a reason", () => {
    expect(extractResult({ case: "x", definition: "d", result: "maybe" })).toHaveProperty("error");
    expect(extractResult({ case: "x", definition: "d", result: "pass", measurement: "fast" })).toEqual({
      error: "measurement: 'fast' is not a decimal number",
    });
    expect(extractResult("text")).toHaveProperty("error");
  });
});

describe("device dictionary", () => {
  it("deep-merges device overrides over type defaults and adds hostname/device_type", () => {
    const y = renderDeviceDictionary({
      hostname: "q1",
      deviceType: "qemu",
      defaults: { qemu: { memory_mb: 256, smp: 1 }, a: [1] },
      overrides: { qemu: { memory_mb: 512 }, a: [2] },
    });
    expect(parse(y)).toEqual({ qemu: { memory_mb: 512, smp: 1 }, a: [2], hostname: "q1", device_type: "qemu" });
  });
});

describe("lab file", () => {
  it("names the bad field", () => {
    expect(() => parseLabFile("devices: [{hostname: d, device_type: qemu}]")).toThrow(/devices\[0\]\.worker/);
    expect(() => parseLabFile("workers: [{hostname: w, token: short}]")).toThrow(/workers\[0\]\.token/);
    expect(() => parseLabFile("bogus: 1")).toThrow(/unknown key\(s\) bogus/);
  });
});
