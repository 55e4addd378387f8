import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { formatDefinitionErrors, parseJobDefinition } from "./parse.ts";
import { checkQemuJobArgs, splitQemuOptionList } from "./qemu-args.ts";
import { DEMO_JOB, errorsOf } from "./testing.ts";

const KERNEL_ARG = "data['actions'][0]['deploy']['images']['kernel']['image_arg']";

/** The demo job with the kernel's image_arg replaced. */
function withKernelArg(arg: string): string {
  const copy = structuredClone(DEMO_JOB) as any;
  copy.actions[0].deploy.images.kernel.image_arg = arg;
  return stringify(copy);
}

describe("QEMU options a job may add (image_arg allow-list)", () => {
  it("refuses options that reach host files or run host commands, naming the option and the YAML path", () => {
    expect(errorsOf(withKernelArg("-kernel {kernel} -chardev file,path=/tmp/x,id=c0 -serial chardev:c0"))).toBe(
      `Job invalid: QEMU option '-chardev' is not allowed in image_arg (allowed: -kernel, -initrd, -dtb, -bios, -append, -drive, -cpu, -smp, -m) @ ${KERNEL_ARG}`,
    );
    expect(errorsOf(withKernelArg("-kernel {kernel} -netdev user,id=n0,guestfwd=tcp:10.0.2.100:1234-cmd:touch /tmp/x"))).toContain(
      `QEMU option '-netdev' is not allowed in image_arg`,
    );
    for (const opt of [
      "-device loader,file=/etc/shadow,addr=0x1000",
      "-object memory-backend-file,id=m,mem-path=/tmp/x,size=1M",
      "-monitor unix:/tmp/m,server",
      "-fw_cfg name=opt/x,file=/etc/passwd",
      "-serial file:/tmp/x",
      "-plugin /tmp/x.so",
      "-machine pc,dumpdtb=/tmp/x.dtb",
      "-L /",
      "-readconfig /etc/x",
      "-D /tmp/log",
      "-pidfile /tmp/p",
      "-daemonize x",
      "-S x",
      "--chardev stdio,id=x",
    ]) {
      const name = opt.split(" ")[0]!.replace(/^--/, "-");
      expect(errorsOf(withKernelArg(`-kernel {kernel} ${opt}`))).toContain(`QEMU option '${name}' is not allowed in image_arg`);
    }
  });

  it("allows -drive only with file= equal to a placeholder and format=raw; ',,' cannot smuggle a second file", () => {
    expect(errorsOf(withKernelArg("-kernel {kernel} -drive file=/etc/passwd,format=raw"))).toContain(
      "QEMU option '-drive' in image_arg: file= must be an image placeholder such as {rootfs}, not a path (got 'file=/etc/passwd,format=raw')",
    );
    expect(errorsOf(withKernelArg("-kernel {kernel} -drive file={kernel},,file=/etc/passwd,format=raw"))).toContain(
      "file= must be an image placeholder",
    );
    expect(errorsOf(withKernelArg("-kernel {kernel} -drive file={kernel}"))).toContain("needs format=raw");
    expect(errorsOf(withKernelArg("-kernel {kernel} -drive file={kernel},format=qcow2"))).toContain("format=qcow2 is not allowed");
    expect(errorsOf(withKernelArg("-kernel {kernel} -drive file={kernel},format=raw,backing.file=/x"))).toContain(
      "key 'backing.file' is not allowed",
    );
    expect(splitQemuOptionList("file={a},,b=c,format=raw")).toEqual([
      { key: "file", value: "{a},b=c" },
      { key: "format", value: "raw" },
    ]);
  });

  it("refuses paths where a placeholder belongs, bare words, shell syntax and unknown placeholders", () => {
    expect(errorsOf(withKernelArg("-kernel /etc/passwd"))).toContain(
      "QEMU option '-kernel' in image_arg: the value must be an image placeholder such as {kernel}, not a path (got '/etc/passwd')",
    );
    expect(errorsOf(withKernelArg("-kernel {kernel} /etc/passwd"))).toContain("unexpected argument '/etc/passwd' in image_arg");
    expect(errorsOf(withKernelArg("-kernel {kernel}; touch /tmp/x"))).toContain("image_arg must be plain arguments");
    expect(errorsOf(withKernelArg("-kernel {kernel} -append"))).toContain("QEMU option '-append' in image_arg needs a value");
    expect(errorsOf(withKernelArg("-kernel {nope}"))).toBe(
      `Job invalid: image_arg refers to {nope}, which is not an image of this deploy @ ${KERNEL_ARG}`,
    );
  });

  it("accepts what real jobs pass: kernel, initrd, dtb, append with any text, raw drives, cpu/smp/m", () => {
    for (const arg of [
      '-kernel {kernel} -append "console=ttyS0,115200 quiet root=/dev/vda rw"',
      "-kernel {kernel} -initrd {initrd} -dtb {initrd}",
      "-drive file={initrd},format=raw,if=virtio,readonly=on -cpu qemu64,+sse4.2 -smp 2 -m 512",
      "--kernel {kernel}",
    ]) {
      const r = parseJobDefinition(withKernelArg(arg));
      expect(r.ok, `${arg}: ${r.ok ? "" : formatDefinitionErrors(r.errors)}`).toBe(true);
    }
    const checked = checkQemuJobArgs('-kernel {kernel} -append "x=$HOME {kernel}"');
    // variables are never expanded; -append text is not a placeholder use
    expect(checked).toEqual({ ok: true, words: ["-kernel", "{kernel}", "-append", "x=$HOME {kernel}"], placeholders: ["kernel"] });
  });
});
