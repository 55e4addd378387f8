import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuVersion } from "./qemu.ts";

describe("qemuVersion", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "magma-qemu-version-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A fake QEMU that counts its runs in `runs` and prints `version` (a real executable file). */
  async function fakeQemu(version: string): Promise<string> {
    const bin = path.join(dir, "qemu-system-fake");
    await writeFile(bin, `#!/bin/sh\necho run >> '${dir}/runs'\necho '${version}'\necho 'Copyright (c) 2003-2022'\n`);
    await chmod(bin, 0o755);
    return bin;
  }
  const runs = async () => (await readFile(path.join(dir, "runs"), "utf8").catch(() => "")).split("\n").filter(Boolean).length;

  it("runs the binary once while the file is unchanged, again once it changed (an upgrade)", async () => {
    const bin = await fakeQemu("QEMU emulator version 7.2.0");
    expect(await qemuVersion(bin)).toBe("QEMU emulator version 7.2.0");
    expect(await qemuVersion(bin)).toBe("QEMU emulator version 7.2.0");
    expect(await runs()).toBe(1);
    await fakeQemu("QEMU emulator version 8.2.10");
    expect(await qemuVersion(bin)).toBe("QEMU emulator version 8.2.10");
    expect(await runs()).toBe(2);
  });

  it("gives undefined for a binary that does not exist, on a path or on PATH", async () => {
    expect(await qemuVersion(path.join(dir, "missing-qemu"))).toBeUndefined();
    expect(await qemuVersion("magma-no-such-qemu-binary")).toBeUndefined();
  });
});
