import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { multinodeReply, multinodeRequest, parseMultinodeSignal } from "./multinode.ts";
import { multinodeHelpers } from "../../multinode-helpers.ts";

describe("MultiNode console protocol (LAVA's)", () => {
  it("finds <LAVA_MULTI_NODE> calls and builds the coordinator requests as LAVA's SignalDirector", () => {
    const send = parseMultinodeSignal("+ x <LAVA_MULTI_NODE> <LAVA_SEND ready port=8080 host=srv>");
    expect(send).toEqual({ api: "SEND", args: ["ready", "port=8080", "host=srv"] });
    expect(multinodeRequest(send!)).toEqual({ request: "lava_send", messageID: "ready", message: { port: "8080", host: "srv" } });
    expect(multinodeRequest(parseMultinodeSignal("<LAVA_MULTI_NODE> <LAVA_WAIT_ALL booted server>")!)).toEqual({
      request: "lava_wait_all",
      messageID: "booted",
      role: "server",
    });
    expect(multinodeRequest(parseMultinodeSignal("<LAVA_MULTI_NODE> <LAVA_SYNC done>")!)).toEqual({
      request: "lava_sync",
      messageID: "done",
    });
    expect(parseMultinodeSignal("<LAVA_MULTI_NODE> <LAVA_WAIT ready")).toBeUndefined();
    expect(parseMultinodeSignal("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass>")).toBeUndefined();
    expect(multinodeRequest({ api: "START_VMS", args: ["x"] })).toBeUndefined();
  });

  it("answers as LAVA types them: job:key=value pairs, nack, a bare SYNC completion, nothing for SEND", () => {
    expect(multinodeReply("WAIT", { response: "ack", message: { "12": { port: "8080", host: "srv" } } })).toBe(
      "<LAVA_WAIT_COMPLETE 12:port=8080 12:host=srv>",
    );
    expect(multinodeReply("WAIT_ALL", { response: "nack" })).toBe("<LAVA_WAIT_ALL_COMPLETE nack>");
    expect(multinodeReply("SYNC", { response: "ack" })).toBe("<LAVA_SYNC_COMPLETE>");
    expect(multinodeReply("SEND", { response: "ack" })).toBeUndefined();
  });

  it("the DUT helpers print the calls, read the answer from stdin into the cache file, and know role, group and self", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mn-helpers-"));
    try {
      const bin = path.join(dir, "bin");
      execFileSync("mkdir", ["-p", bin]);
      for (const [name, body] of Object.entries(
        multinodeHelpers(7, { role: "client", roles: { "7": "client", "8": "server", "9": "server" } }),
      )) {
        const file = path.join(bin, name);
        // point the helpers at this temporary bin and cache instead of /lava-7/bin and /tmp
        writeFileSync(
          file,
          body
            .replace("LAVA_TEST_BIN='/lava-7/bin'", `LAVA_TEST_BIN='${bin}'`)
            .replace("/tmp/lava_multi_node_cache.txt", path.join(dir, "cache.txt")),
        );
        chmodSync(file, 0o755);
      }
      const env = { ...process.env, PATH: `${bin}:${process.env["PATH"]}` };
      const run = (cmd: string, input = "") => execFileSync("/bin/sh", ["-c", cmd], { env, input, encoding: "utf8" });
      expect(run("lava-send ready port=8080 junk host=srv")).toBe("<LAVA_MULTI_NODE> <LAVA_SEND ready port=8080 host=srv>\n");
      expect(run("lava-wait ready", "noise\n<LAVA_WAIT_COMPLETE 8:port=8080 9:port=9090>\n")).toBe("<LAVA_MULTI_NODE> <LAVA_WAIT ready>\n");
      expect(readFileSync(path.join(dir, "cache.txt"), "utf8")).toBe("8:port=8080\n9:port=9090\n");
      expect(run("lava-wait-all booted server", "<LAVA_WAIT_ALL_COMPLETE 8:a=1>\n")).toContain("<LAVA_WAIT_ALL booted server>");
      expect(run("lava-sync done", "<LAVA_SYNC_COMPLETE>\n")).toBe("<LAVA_MULTI_NODE> <LAVA_SYNC done>\n");
      expect(() => run("lava-wait x", "<LAVA_WAIT_COMPLETE nack>\n")).toThrow();
      expect(() => run("lava-send a=b")).toThrow();
      expect(run("lava-role")).toBe("client");
      expect(run("lava-role list")).toBe("client\nserver\nserver\n");
      expect(run("lava-group server")).toBe("8\n9\n");
      expect(() => run("lava-group db")).toThrow();
      expect(run("lava-self")).toBe("7\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
