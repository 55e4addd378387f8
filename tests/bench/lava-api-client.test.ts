import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAgainstLava } from "./against-lava.ts";
import { LavaApiClient } from "./lava-api-client.ts";
import { ADMIN_TOKEN, cleanupAll, createDatabase, seedLab, startInstance, type InstanceProc } from "./lib.ts";

// The side-by-side client against a real instance process standing in for a LAVA server: Magma
// speaks LAVA's REST v0.2 and XML-RPC, so the calls the bench makes to LAVA must work here too.
let inst: InstanceProc;
let client: LavaApiClient;
const definition = [
  "job_name: client test",
  "device_type: qemu",
  "visibility: public",
  "timeouts: {job: {minutes: 5}}",
  "actions:",
  "- deploy: {to: tmpfs, images: {kernel: {url: 'http://127.0.0.1/vmlinuz'}}}",
  "- boot: {method: qemu, prompts: ['/ #']}",
].join("\n");

beforeAll(async () => {
  const db = await createDatabase("instance", "lava-client-test");
  await seedLab(db, { workers: 1, devices: [], emptyTypes: ["qemu"] });
  inst = await startInstance("lava-client-test", db);
  client = new LavaApiClient({ label: "lava", url: inst.url, user: "admin", token: ADMIN_TOKEN });
});
afterAll(async () => {
  await client?.close();
  await cleanupAll();
});

describe("LavaApiClient against a LAVA-API server", () => {
  it("submits over REST and XML-RPC, lists over both, cancels", async () => {
    const [a] = await client.restSubmit(definition);
    const [b] = await client.rpcSubmit(definition);
    expect(b).toBe(a! + 1);
    expect(await client.restList(100)).toBe(2);
    expect(await client.rpcList(100)).toBe(2);
    const queued = await client.restJob(a!);
    expect(queued).toMatchObject({ state: "Submitted", health: "Unknown", start_time: null, end_time: null });
    expect(Date.parse(queued.submit_time!)).toBeGreaterThan(0);
    await client.cancel(a!);
    await client.cancel(a!); // twice: not an error
    const canceled = await client.restJob(a!);
    expect(canceled).toMatchObject({ state: "Finished", health: "Canceled" });
    expect(Date.parse(canceled.end_time!)).toBeGreaterThanOrEqual(Date.parse(queued.submit_time!));
    await expect(client.restJob(999_999)).rejects.toThrow(/^lava REST job 999999: HTTP 404: /);
  });

  it("names the status and the server's answer when a submission is refused", async () => {
    const bad = new LavaApiClient({ label: "lava", url: inst.url, user: "admin", token: "wrong-token" });
    try {
      await expect(bad.restSubmit(definition)).rejects.toThrow(/^lava REST submit: HTTP 401: /);
    } finally {
      await bad.close();
    }
  });
});

describe("--against-lava arguments", () => {
  it("parses URL TOKEN DEVICE_TYPE and --lava-user, and names what is missing", () => {
    expect(parseAgainstLava(["--quick"], true)).toBeUndefined();
    expect(parseAgainstLava(["--against-lava", "http://lava:8000/", "t0k", "qemu", "--lava-user", "bob"], false)).toEqual({
      url: "http://lava:8000",
      token: "t0k",
      deviceType: "qemu",
      user: "bob",
      quick: false,
    });
    expect(() => parseAgainstLava(["--against-lava", "http://lava:8000", "t0k"], false)).toThrow(
      "--against-lava needs URL TOKEN DEVICE_TYPE",
    );
    expect(() => parseAgainstLava(["--against-lava", "lava:8000", "t0k", "qemu"], false)).toThrow(
      "URL must start with http:// or https://",
    );
    const job = path.join(mkdtempSync(path.join(os.tmpdir(), "against-lava-")), "smallest.yaml");
    writeFileSync(job, "device_type: qemu\n");
    expect(parseAgainstLava(["--against-lava", "http://lava:8000", "t0k", "qemu", "--lava-qemu-job", job], true)?.qemuJob).toBe(
      "device_type: qemu\n",
    );
    expect(() => parseAgainstLava(["--against-lava", "http://lava:8000", "t0k", "qemu", "--lava-qemu-job"], true)).toThrow(
      "--lava-qemu-job needs FILE",
    );
    expect(() =>
      parseAgainstLava(["--against-lava", "http://lava:8000", "t0k", "qemu", "--lava-qemu-job", `${job}.missing`], true),
    ).toThrow(/--lava-qemu-job: cannot read '.*smallest\.yaml\.missing'/);
  });
});
