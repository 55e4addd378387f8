import { describe, expect, it } from "vitest";
import { ZQemuSettings } from "@magma/protocol";
import { JobError } from "../../../errors.ts";
import { applyJobContext, buildQemuCommand } from "./qemu.ts";

const device = ZQemuSettings.parse({
  binary: "/usr/bin/qemu-system-x86_64",
  machine: "pc,accel=tcg",
  memory_mb: 256,
  extra_options: ["-no-reboot"],
});

describe("a job's context on the QEMU command line (LAVA's qemu.jinja2 context)", () => {
  it("machine, cpu, memory and cpus replace the device's values; extra_options follow the device's own", () => {
    const s = applyJobContext(
      device,
      { arch: "amd64", machine: "q35", cpu: "qemu64", memory: 512, cpus: 2, extra_options: ["-smp 2"] },
      "qemu-01",
    );
    const cmd = buildQemuCommand(s, new Map(), new Map());
    expect(cmd.slice(0, 9)).toEqual(["/usr/bin/qemu-system-x86_64", "-machine", "q35", "-m", "512", "-smp", "2", "-cpu", "qemu64"]);
    expect(cmd.indexOf("-no-reboot")).toBeLessThan(cmd.lastIndexOf("-smp"));
  });

  it("no context leaves the device's settings as they are", () => {
    expect(applyJobContext(device, undefined, "qemu-01")).toBe(device);
  });

  it("an arch the device's emulator does not run is the job's mistake, named", () => {
    expect(() => applyJobContext(device, { arch: "arm64" }, "qemu-01")).toThrow(JobError);
    expect(() => applyJobContext(device, { arch: "arm64" }, "qemu-01")).toThrow(
      "context arch 'arm64' needs qemu-system-aarch64, but device qemu-01 runs qemu-system-x86_64",
    );
  });

  it("extra_options are checked again against the job allow-list before QEMU is spawned", () => {
    expect(() => applyJobContext(device, { extra_options: ["-chardev file,path=/tmp/x,id=c"] }, "qemu-01")).toThrow(
      "QEMU option '-chardev' is not allowed in context extra_options[0]",
    );
  });
});
