import { describe, expect, it } from "vitest";
import { parseJobDefinition, ZDeviceDictionary, type TJobDefinition } from "@magma/protocol";
import { buildPipeline } from "../../parser.ts";
import { JobLog } from "../../job-log.ts";
import type { JobContext } from "../../job.ts";
import { selectBootCommands, substituteBootCommands } from "./u-boot.ts";

const JOB = `
job_name: bbb
device_type: beaglebone-black
visibility: public
timeouts: {job: {minutes: 5}}
actions:
- deploy: {to: tftp, kernel: {url: "http://x/zImage", type: zimage}, ramdisk: {url: "http://x/initrd.gz"}, dtb: {url: "http://x/am335x-boneblack.dtb"}}
- boot: {method: u-boot, commands: ramdisk, prompts: ["/ # "], timeout: {minutes: 2}, failure_retry: 2, auto_login: {login_prompt: "login:", username: root}}
`;
const device = ZDeviceDictionary.parse({
  device_type: "beaglebone-black",
  hostname: "bbb-01",
  connection_command: "telnet 127.0.0.1 7001",
  hard_reset_command: "pdu reset 7",
  kernel_addr: "0x81000000",
  boot_commands: {
    ramdisk: ["setenv serverip {SERVER_IP}", "tftp {KERNEL_ADDR} {KERNEL}", "tftp {DTB_ADDR} {DTB}", "setenv x ${y}", "{BOOTX}"],
  },
});

function definition(text = JOB): TJobDefinition {
  const r = parseJobDefinition(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.definition;
}

function ctx(def: TJobDefinition, images: Record<string, string>, tftp = true): JobContext {
  return {
    jobId: 7,
    jobDir: "/w/jobs/7",
    definition: def,
    device,
    log: new JobLog(() => {}),
    images: new Map(Object.entries(images)),
    imageArgs: new Map(),
    lineListeners: new Set(),
    jobDeadlineMs: Date.now() + 60_000,
    workerName: "w",
    tftpBind: { ip: "10.0.0.5", port: 0 },
    ...(tftp ? { tftp: { host: "10.0.0.5", port: 6969 } as JobContext["tftp"] } : {}),
  };
}

describe("u-boot boot commands", () => {
  it("picks the named set and substitutes LAVA's placeholders, leaving U-Boot's own ${vars}", () => {
    const def = definition();
    const c = ctx(def, {
      kernel: "/w/jobs/7/tftp/kernel/zImage",
      ramdisk: "/w/jobs/7/tftp/ramdisk-overlay/initrd.gz",
      dtb: "/w/jobs/7/tftp/dtb/am335x-boneblack.dtb",
    });
    const cmds = substituteBootCommands(c, selectBootCommands(device, "ramdisk"), undefined);
    expect(cmds).toEqual([
      "setenv serverip 10.0.0.5",
      "tftp 0x81000000 kernel/zImage",
      "tftp 0x88000000 dtb/am335x-boneblack.dtb",
      "setenv x ${y}",
      "bootz 0x81000000 0x83000000 0x88000000",
    ]);
  });

  it("names what is missing: an unknown command set, an image the job did not deploy", () => {
    expect(() => selectBootCommands(device, "nfs")).toThrow("device bbb-01 has no boot commands named 'nfs' (it has: ramdisk)");
    const c = ctx(definition(), { kernel: "/w/jobs/7/tftp/kernel/zImage" }, false);
    expect(() => substituteBootCommands(c, ["tftp {RAMDISK_ADDR} {RAMDISK}"], undefined)).toThrow(
      "uses {RAMDISK}, but the job deployed nothing for it",
    );
    expect(() => substituteBootCommands(c, ["setenv serverip {SERVER_IP}"], undefined)).toThrow("uses {SERVER_IP}");
    expect(substituteBootCommands(c, ["{BOOTX}"], "bootm")).toEqual(["bootm 0x81000000 -"]);
  });

  it("builds LAVA's pipeline for tftp + u-boot: levels, names and the boot timeout inherited", () => {
    const p = buildPipeline(7, definition(), device);
    expect(p.describe().map((a) => `${a.level} ${a.name} ${a.timeout}`)).toEqual([
      "1 tftp-deploy 30",
      "1.1 http-download 30",
      "1.2 http-download 30",
      "1.3 http-download 30",
      "1.4 tftp-serve 30",
      "2 uboot-action 120",
      "2.1 bootloader-overlay 120",
      "2.2 connect-device 120",
      "2.3 uboot-commands 120",
      "2.3.1 reset-device 120",
      "2.3.2 bootloader-interrupt 120",
      "2.3.3 bootloader-commands 120",
      "2.3.4 auto-login-action 120",
      "2.3.5 expect-shell-connection 120",
      "3 finalize 30",
      "3.1 power-off 10",
    ]);
  });

  it("minimal boot resets only a device with power commands (and not with reset: false)", () => {
    const job = (extra: string) =>
      definition(JOB.replace(/- deploy:.*\n/, "").replace(/- boot:.*\n/, `- boot: {method: minimal, prompts: ["/ # "]${extra}}\n`));
    const names = (def: TJobDefinition, d = device) =>
      buildPipeline(7, def, d)
        .describe()
        .map((a) => a.name);
    expect(names(job(""))).toEqual(["minimal-boot", "connect-device", "reset-device", "expect-shell-connection", "finalize", "power-off"]);
    expect(names(job(", reset: false"))).not.toContain("reset-device");
    const unpowered = ZDeviceDictionary.parse({ device_type: "x", hostname: "x-01", serial: { path: "/dev/ttyUSB0" } });
    expect(names(job(""), unpowered)).not.toContain("reset-device");
  });
});
