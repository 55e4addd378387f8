import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDefinitionErrors, MAX_DEFINITION_BYTES, parseJobDefinition } from "./parse.ts";
import { timeoutToMs } from "./timeout.ts";
import { errorsOf } from "./testing.ts";

const repoRoot = path.resolve(import.meta.dirname, "../../../..");
// LAVA-format job definitions written for these tests (see testdata/README.md)
const samples = path.join(import.meta.dirname, "testdata");
const demoJobs = path.join(repoRoot, "infra/demo/jobs");

const minimal = `
device_type: qemu
job_name: t
visibility: public
timeouts: {job: {minutes: 5}}
actions:
- boot: {method: qemu, prompts: ['# ']}
`;

describe("parseJobDefinition", () => {
  it("accepts the demo's LAVA job definitions unchanged", () => {
    for (const f of readdirSync(demoJobs)) {
      const r = parseJobDefinition(readFileSync(path.join(demoJobs, f), "utf8"));
      expect(r.ok, f).toBe(true);
    }
  });

  it("accepts LAVA-format jobs that use methods Magma runs, git test definitions included", () => {
    const files = readdirSync(samples).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const r = parseJobDefinition(readFileSync(path.join(samples, f), "utf8"));
      expect(r.ok, `${f}: ${r.ok ? "" : formatDefinitionErrors(r.errors)}`).toBe(true);
    }
  });

  it("checks git test definitions: http(s)/git URLs only, refs that cannot be git options, not both revision and branch", () => {
    const git = readFileSync(path.join(samples, "git-test-definition.yaml"), "utf8");
    const url = "https://git.example.invalid/test-definitions.git";
    const at = "@ data['actions'][2]['test']['definitions'][0]";
    expect(errorsOf(git.replace(url, "file:///etc/secrets.git"))).toContain(
      `repository must be an http://, https:// or git:// URL ${at}['repository']`,
    );
    expect(errorsOf(git.replace(url, "ext::sh -c touch% /tmp/x"))).toContain(`${at}['repository']`);
    expect(errorsOf(git.replace("from: git", "from: git\n      revision: --upload-pack=touch"))).toContain(`${at}['revision']`);
    expect(errorsOf(git.replace("from: git", "from: git\n      revision: v1.0\n      branch: main"))).toContain(
      `give either revision or branch, not both ${at}['revision']`,
    );
    expect(errorsOf(git.replace("from: git", "from: svn"))).toContain("test definition source 'svn' is not supported");
    // from: url (LAVA's UrlRepoAction): http(s) only, its own keys
    const asUrl = git.replace("from: git", "from: url").replace(url, "https://example.invalid/tests.tar.gz");
    const urlOk = parseJobDefinition(asUrl.replace("from: url", "from: url\n      strip-components: 1\n      compression: gz"));
    expect(urlOk.ok, urlOk.ok ? "" : formatDefinitionErrors(urlOk.errors)).toBe(true);
    expect(errorsOf(asUrl.replace("https://example.invalid/tests.tar.gz", "ftp://example.invalid/t.tar"))).toContain(
      `repository must be an http:// or https:// URL ${at}['repository']`,
    );
    expect(errorsOf(asUrl.replace("from: url", "from: url\n      revision: v1"))).toContain(`extra keys not allowed ${at}['revision']`);
    // expected: (LAVA 2025.12+) a list of test case ids
    const exp = parseJobDefinition(git.replace("from: git", "from: git\n      expected: [a, b]"));
    expect(exp.ok, exp.ok ? "" : formatDefinitionErrors(exp.errors)).toBe(true);
    expect(errorsOf(git.replace("from: git", "from: git\n      expected: a"))).toContain(`${at}['expected']`);
    const ok = parseJobDefinition(git.replace("from: git", "from: git\n      revision: 1a2b3c4d\n      shallow: false"));
    expect(ok.ok, ok.ok ? "" : formatDefinitionErrors(ok.errors)).toBe(true);
  });

  it("normalises priority names and metadata values, and converts timeouts to ms", () => {
    const r = parseJobDefinition(minimal + "priority: high\nmetadata: {build: 1234, tree: mainline}\n");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.definition.priority).toBe(100);
    expect(r.definition.metadata).toEqual({ build: "1234", tree: "mainline" });
    expect(timeoutToMs(r.definition.timeouts.job)).toBe(300_000);
    expect(timeoutToMs({ hours: 1, minutes: 2, seconds: 3 })).toBe(3_723_000);
  });

  it("names missing keys, extra keys and wrong types with their YAML path, LAVA-style", () => {
    const msg = errorsOf("job_name: x\nfoo: 1\n");
    expect(msg).toMatch(/^Job invalid: /);
    expect(msg).toContain("required key not provided @ data['device_type']");
    expect(msg).toContain("extra keys not allowed @ data['foo']");
    expect(errorsOf(minimal.replace("{minutes: 5}", "{minutes: five}"))).toContain("data['timeouts']['job']['minutes']");
    expect(errorsOf(minimal + "priority: 101\n")).toContain("data['priority']");
    expect(errorsOf(minimal.replace("method: qemu, ", ""))).toBe(
      "Job invalid: required key not provided @ data['actions'][0]['boot']['method']",
    );
    expect(errorsOf(minimal.replace("- boot:", "- deploy: {images: {}}\n- boot:"))).toBe(
      "Job invalid: required key not provided @ data['actions'][0]['deploy']['to']",
    );
  });

  it("refuses unsupported methods at submission, naming the method and its path", () => {
    expect(errorsOf(minimal.replace("method: qemu", "method: fastboot"))).toBe(
      "Job invalid: boot method 'fastboot' is not supported by Magma (supported: qemu, u-boot, minimal) @ data['actions'][0]['boot']['method']",
    );
    expect(errorsOf(minimal.replace("- boot:", "- deploy: {to: nfs}\n- boot:"))).toContain("deploy method 'nfs' is not supported");
    expect(errorsOf(minimal.replace("- boot:", "- command: {name: x}\n- boot:"))).toContain("action 'command' is not supported");
  });

  it("accepts deploy to: tftp with boot method u-boot, and boot method minimal; names a missing u-boot key", () => {
    const uboot = [
      "job_name: bbb",
      "device_type: beaglebone-black",
      "visibility: public",
      "timeouts: {job: {minutes: 5}}",
      "actions:",
      "- deploy: {to: tftp, kernel: {url: 'http://x/zImage', type: zimage}, ramdisk: {url: 'http://x/initrd.gz', compression: gz}, dtb: {url: 'http://x/am335x-boneblack.dtb'}}",
      "- boot: {method: u-boot, commands: ramdisk, type: bootz, prompts: ['/ #'], auto_login: {login_prompt: 'login:', username: root}}",
    ].join("\n");
    const r = parseJobDefinition(uboot);
    expect(r.ok, r.ok ? "" : formatDefinitionErrors(r.errors)).toBe(true);
    const minimalBoot = parseJobDefinition(minimal.replace("method: qemu", "method: minimal, reset: false"));
    expect(minimalBoot.ok, minimalBoot.ok ? "" : formatDefinitionErrors(minimalBoot.errors)).toBe(true);
    expect(errorsOf(uboot.replace("commands: ramdisk, ", ""))).toContain(
      "required key not provided @ data['actions'][1]['boot']['commands']",
    );
    expect(errorsOf(uboot.replace("kernel: {url: 'http://x/zImage', type: zimage}, ", ""))).toContain(
      "data['actions'][0]['deploy']['kernel']",
    );
  });

  it("accepts LAVA's transfer_overlay on u-boot and minimal boots; both commands are required, qemu has none", () => {
    const transfer = "transfer_overlay: {download_command: 'cd /tmp; wget -q', unpack_command: 'tar -C / -xzf'}";
    const r = parseJobDefinition(minimal.replace("method: qemu", `method: minimal, ${transfer}`));
    expect(r.ok, r.ok ? "" : formatDefinitionErrors(r.errors)).toBe(true);
    if (r.ok) {
      const boot = r.definition.actions[0]!;
      expect("boot" in boot && boot.boot.method === "minimal" ? boot.boot.transfer_overlay : undefined).toEqual({
        download_command: "cd /tmp; wget -q",
        unpack_command: "tar -C / -xzf",
      });
    }
    const uboot = parseJobDefinition(minimal.replace("method: qemu", `method: u-boot, commands: ramdisk, ${transfer}`));
    expect(uboot.ok, uboot.ok ? "" : formatDefinitionErrors(uboot.errors)).toBe(true);
    expect(errorsOf(minimal.replace("method: qemu", "method: minimal, transfer_overlay: {download_command: wget}"))).toContain(
      "required key not provided @ data['actions'][0]['boot']['transfer_overlay']['unpack_command']",
    );
    expect(
      errorsOf(
        minimal.replace("method: qemu", "method: minimal, transfer_overlay: {download_command: wget, unpack_command: tar, method: x}"),
      ),
    ).toContain("data['actions'][0]['boot']['transfer_overlay']");
    expect(errorsOf(minimal.replace("method: qemu", `method: qemu, ${transfer}`))).toContain(
      "data['actions'][0]['boot']['transfer_overlay']",
    );
  });

  it("refuses YAML syntax errors, duplicate keys, non-mappings, alias bombs and oversize text", () => {
    expect(errorsOf("job_name: [unclosed")).toContain("YAML syntax error");
    expect(errorsOf("job_name: a\njob_name: b\n")).toContain("YAML syntax error");
    expect(errorsOf("- a\n- b\n")).toContain("expected a dictionary");
    const bomb = ["a: &a [x,x,x,x,x,x,x,x,x]"];
    for (const [n, p] of [
      ["b", "a"],
      ["c", "b"],
      ["d", "c"],
      ["e", "d"],
    ] as const)
      bomb.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(",")}]`);
    expect(errorsOf(bomb.join("\n"))).toContain("alias");
    expect(errorsOf("x".repeat(MAX_DEFINITION_BYTES + 1))).toContain("over the limit");
  });

  // 300 parses: well under a second alone, but CI shares 2 cores with QEMU boots
  it("never throws, whatever the input (fuzz)", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const r = parseJobDefinition(text);
          if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("applies only the context keys Magma runs and names the others; notify email recipients are accepted, IRC refused", () => {
    const ctx = (c: string) => minimal + "context:\n" + c;
    expect(parseJobDefinition(ctx("  arch: amd64\n  memory: 512\n  cpus: 2\n  machine: q35\n  extra_options: ['-smp 2']\n")).ok).toBe(true);
    expect(errorsOf(ctx("  guestfs_interface: virtio\n"))).toBe(
      "Job invalid: context key 'guestfs_interface' is not applied by Magma (supported: arch, machine, cpu, memory, cpus, netdevice, extra_options) @ data['context']['guestfs_interface']",
    );
    expect(errorsOf(ctx("  netdevice: tap\n"))).toContain("@ data['context']['netdevice']");
    expect(errorsOf(ctx("  extra_options: ['-netdev user,id=n,guestfwd=tcp:1.2.3.4:80-cmd:touch /tmp/x']\n"))).toContain(
      "QEMU option '-netdev' is not allowed in context extra_options",
    );
    expect(
      parseJobDefinition(
        minimal +
          "notify:\n  criteria: {status: finished}\n  recipients:\n  - to: {method: email, email: a@example.org}\n  - to: {method: email, user: bob}\n",
      ).ok,
    ).toBe(true);
    expect(
      errorsOf(
        minimal + "notify:\n  criteria: {status: finished}\n  recipients:\n  - to: {method: irc, handle: me, server: irc.libera.chat}\n",
      ),
    ).toContain(
      "IRC notifications are not sent by Magma: use method: email or callbacks @ data['notify']['recipients'][0]['to']['method']",
    );
    expect(errorsOf(minimal + "notify:\n  criteria: {status: finished}\n  recipients:\n  - to: {method: email}\n")).toContain(
      "an email recipient needs user or email @ data['notify']['recipients'][0]['to']",
    );
  });
});
