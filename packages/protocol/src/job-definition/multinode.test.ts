import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseJobDefinition } from "./parse.ts";
import { splitMultinodeDefinition } from "./multinode.ts";
import { evaluateMultinode } from "../worker-api/multinode.ts";

const fixture = readFileSync(new URL("./testdata/multinode.yaml", import.meta.url), "utf8");

describe("MultiNode job definitions", () => {
  it("accepts a two-role submission and splits it as LAVA does: one sub-job per role × count, actions by role", () => {
    const r = parseJobDefinition(fixture);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const subs = splitMultinodeDefinition(r.raw, "g-1");
    expect(subs.map((s) => [s.role, s.subId, s.deviceType])).toEqual([
      ["client", 0, "qemu"],
      ["server", 1, "qemu"],
    ]);
    const server = subs[1]!.raw;
    expect(server["protocols"]).toEqual({
      "lava-multinode": { timeout: { minutes: 3 }, role: "server", roles: {}, target_group: "g-1", group_size: 2, sub_id: 1 },
    });
    expect(server["context"]).toEqual({ memory: 256 });
    const actions = server["actions"] as Record<string, Record<string, unknown>>[];
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(["deploy", "boot", "test"]);
    expect(actions.every((a) => Object.values(a)[0]!["role"] === "server")).toBe(true);
    expect(JSON.stringify(actions[2])).toContain("lava-send ready");
    // each sub-job's own definition is valid on its own (what the worker parses)
    const sub = parseJobDefinition(JSON.stringify(server));
    expect(sub.ok).toBe(true);
    if (sub.ok) expect(sub.definition.protocols?.["lava-multinode"].role).toBe("server");
  });

  it("counts sub-jobs across roles: count 2 gives two sub-jobs of the role", () => {
    const raw = parseYaml(fixture) as Record<string, unknown>;
    (raw["protocols"] as { "lava-multinode": { roles: { client: { count: number } } } })["lava-multinode"].roles.client.count = 2;
    const r = parseJobDefinition(JSON.stringify(raw));
    expect(r.ok).toBe(true);
    const subs = splitMultinodeDefinition(raw, "g");
    expect(subs.map((s) => `${s.role}.${s.subId}`)).toEqual(["client.0", "client.1", "server.2"]);
    expect((subs[2]!.raw["protocols"] as { "lava-multinode": { group_size: number } })["lava-multinode"].group_size).toBe(3);
  });

  it("refuses an action without a role, an unknown role, a role without actions, and role outside MultiNode, naming the path", () => {
    const raw = () => parseYaml(fixture) as { actions: Record<string, Record<string, unknown>>[]; protocols?: unknown };
    const noRole = raw();
    delete noRole.actions[0]!["deploy"]!["role"];
    const e1 = parseJobDefinition(JSON.stringify(noRole));
    expect(e1.ok ? "" : e1.errors[0]!.path).toBe("data['actions'][0]['deploy']['role']");

    const unknown = raw();
    unknown.actions[2]!["test"]!["role"] = ["db"];
    const e2 = parseJobDefinition(JSON.stringify(unknown));
    expect(e2.ok ? "" : e2.errors.map((e) => e.message).join()).toContain("'db' is not a role of this job");

    const lonely = raw() as ReturnType<typeof raw> & { protocols: { "lava-multinode": { roles: Record<string, unknown> } } };
    lonely.protocols["lava-multinode"].roles["db"] = { device_type: "qemu", count: 1 };
    const e3 = parseJobDefinition(JSON.stringify(lonely));
    expect(e3.ok ? "" : e3.errors.map((e) => e.message).join()).toContain("role 'db' has no action");

    const single = raw();
    delete single.protocols;
    const e4 = parseJobDefinition(JSON.stringify({ ...single, device_type: "qemu" }));
    expect(e4.ok ? "" : e4.errors[0]!.message).toContain("role is only allowed in a MultiNode job");
  });

  it("refuses protocols Magma does not run and a role with a bad count", () => {
    const raw = parseYaml(fixture) as { protocols: Record<string, unknown> };
    raw.protocols["lava-xnbd"] = {};
    const e = parseJobDefinition(JSON.stringify(raw));
    expect(e.ok ? "" : e.errors[0]!.message).toContain("protocol 'lava-xnbd' is not supported by Magma");
    const bad = parseYaml(fixture) as { protocols: { "lava-multinode": { roles: { client: { count: number } } } } };
    bad.protocols["lava-multinode"].roles.client.count = 0;
    const e2 = parseJobDefinition(JSON.stringify(bad));
    expect(e2.ok ? "" : e2.errors[0]!.path).toContain("data['protocols']['lava-multinode']['roles']['client']");
  });
});

describe("MultiNode coordination semantics (lava-coordinator's)", () => {
  const members = { "10": "client", "11": "server", "12": "server" };
  it("lava_send acks; lava_wait waits until any sub-job sent the messageID, then returns every sender's pairs", () => {
    expect(evaluateMultinode({ request: "lava_send" }, { members, senders: {}, syncers: [] })).toEqual({ response: "ack" });
    expect(evaluateMultinode({ request: "lava_wait" }, { members, senders: {}, syncers: [] })).toEqual({ response: "wait" });
    expect(evaluateMultinode({ request: "lava_wait" }, { members, senders: { "11": { port: "80" } }, syncers: [] })).toEqual({
      response: "ack",
      message: { "11": { port: "80" } },
    });
  });
  it("lava_wait_all waits for every sub-job, or every sub-job of the role; an unknown role is refused", () => {
    const one = { members, senders: { "11": { a: "1" } }, syncers: [] };
    expect(evaluateMultinode({ request: "lava_wait_all" }, one).response).toBe("wait");
    expect(evaluateMultinode({ request: "lava_wait_all", role: "server" }, one).response).toBe("wait");
    const servers = { members, senders: { "11": { a: "1" }, "12": { a: "2" } }, syncers: [] };
    expect(evaluateMultinode({ request: "lava_wait_all", role: "server" }, servers)).toEqual({ response: "ack", message: servers.senders });
    expect(evaluateMultinode({ request: "lava_wait_all" }, servers).response).toBe("wait");
    expect(evaluateMultinode({ request: "lava_wait_all", role: "db" }, servers).response).toBe("nack");
  });
  it("lava_sync completes only once the whole group synced", () => {
    expect(evaluateMultinode({ request: "lava_sync" }, { members, senders: {}, syncers: ["10", "11"] }).response).toBe("wait");
    expect(evaluateMultinode({ request: "lava_sync" }, { members, senders: {}, syncers: ["10", "11", "12"] }).response).toBe("ack");
  });
});
