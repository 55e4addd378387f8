/**
 * `deploy: to: tftp` with a gzip'd cpio ramdisk and test actions: the ramdisk the job's TFTP server
 * hands to U-Boot is the original initramfs with the job overlay appended (LAVA inserts the overlay
 * into tftp ramdisks), so a real kernel booting it finds `/lava-<id>/…` as on QEMU. The simulated
 * U-Boot board runs no Linux: the served file is fetched over real TFTP (curl, as the board does) and
 * unpacked with `cpio -idm`, archive by archive, as the kernel does.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { parseJobDefinition, ZDeviceDictionary, type TLogRecord } from "@magma/protocol";
import { buildPipeline } from "../src/dispatcher/parser.ts";
import { runAction } from "../src/dispatcher/pipeline.ts";
import { tftpRelativePath } from "../src/dispatcher/actions/deploy/tftp.ts";
import { buildDut, jobContext, serveDir } from "./helpers.ts";

let dir: string;
let dutDir: string;
let server: Awaited<ReturnType<typeof serveDir>>;

beforeAll(async () => {
  dutDir = buildDut();
  server = await serveDir(dutDir);
  dir = mkdtempSync(path.join(os.tmpdir(), "magma-tftp-overlay-"));
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Unpacks one gzip'd newc archive with the real cpio tool into `root`. */
function cpioUnpack(gz: Buffer, root: string): void {
  execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], {
    cwd: root,
    input: gunzipSync(gz),
    stdio: ["pipe", "ignore", "pipe"],
  });
}

describe("deploy to: tftp appends the test overlay to the ramdisk", () => {
  it("the ramdisk served over TFTP is the initramfs plus the overlay: both unpack with cpio -idm into one root holding /init and /lava-<id>", async () => {
    const jobId = 501;
    const text = stringify({
      job_name: "bbb ramdisk with tests",
      device_type: "beaglebone-black",
      visibility: "public",
      timeouts: { job: { minutes: 2 } },
      actions: [
        {
          deploy: {
            to: "tftp",
            kernel: { url: `${server.url}/vmlinuz`, type: "zimage" },
            ramdisk: { url: `${server.url}/initramfs.cpio.gz` },
          },
        },
        { boot: { method: "u-boot", commands: ["tftp {RAMDISK_ADDR} {RAMDISK}", "{BOOTX}"], prompts: ["/ # "] } },
        {
          test: {
            definitions: [
              {
                from: "inline",
                name: "smoke",
                path: "inline/smoke.yaml",
                repository: {
                  metadata: { format: "Lava-Test Test Definition 1.0", name: "smoke" },
                  run: { steps: ["lava-test-case uname --shell uname -a"] },
                },
              },
            ],
          },
        },
      ],
    });
    const parsed = parseJobDefinition(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const device = ZDeviceDictionary.parse({
      device_type: "beaglebone-black",
      hostname: "bbb-09",
      connection_command: "telnet 127.0.0.1 1",
    });
    const pipeline = buildPipeline(jobId, parsed.definition, device);
    const log: TLogRecord[] = [];
    const ctx = jobContext(path.join(dir, "jobs", String(jobId)), log, {
      jobId,
      definition: parsed.definition,
      device,
      jobDeadlineMs: Date.now() + 120_000,
    });
    mkdirSync(ctx.jobDir, { recursive: true });
    const deploy = pipeline.actions[0]!;
    expect(deploy.name).toBe("tftp-deploy");
    try {
      await runAction(deploy, ctx, undefined, ctx.jobDeadlineMs, new AbortController().signal);
      const rel = tftpRelativePath(ctx, "ramdisk");
      expect(rel).toBe("ramdisk-overlay/initramfs.cpio.gz");
      const served = path.join(dir, "served.cpio.gz");
      // asynchronously: the TFTP server runs in this process
      await promisify(execFile)("curl", [
        "-sS",
        "--tftp-blksize",
        "1468",
        "--max-time",
        "30",
        "-o",
        served,
        `tftp://127.0.0.1:${ctx.tftp!.port}/${rel}`,
      ]);
      const bytes = readFileSync(served);
      // what http-download fetched (not the shared DUT cache, which another run may rebuild meanwhile)
      const original = readFileSync(path.join(ctx.jobDir, "tftp", "ramdisk", "initramfs.cpio.gz"));
      expect(original.length).toBeGreaterThan(100_000);
      // the original initramfs untouched, then the overlay archive (the kernel unpacks both)
      expect(bytes.subarray(0, original.length).equals(original)).toBe(true);
      const overlay = bytes.subarray(original.length);
      expect(overlay.subarray(0, 2).toString("hex")).toBe("1f8b");
      const root = path.join(dir, "root");
      mkdirSync(root);
      cpioUnpack(original, root);
      cpioUnpack(overlay, root);
      expect(statSync(path.join(root, "init")).mode & 0o777).toBe(0o755);
      const lava = path.join(root, `lava-${jobId}`);
      expect(statSync(path.join(lava, "bin/lava-test-runner")).mode & 0o777).toBe(0o755);
      expect(statSync(path.join(lava, "bin/lava-test-case")).mode & 0o777).toBe(0o755);
      expect(readFileSync(path.join(lava, "environment"), "utf8")).toContain(`export LAVA_JOB_ID='${jobId}'`);
      expect(readFileSync(path.join(lava, "0/lava-test-runner.conf"), "utf8")).toBe("0_smoke\n");
      expect(readFileSync(path.join(lava, "0/tests/0_smoke/run.sh"), "utf8")).toContain("lava-test-case uname --shell uname -a");
      expect(log.some((r) => r.lvl === "info" && String(r.msg).startsWith("Overlay: appended "))).toBe(true);
      // logged when the last ACK arrives, which may be just after curl exited
      await vi.waitFor(
        () =>
          expect(
            log.some((r) => r.lvl === "info" && /^tftp: sent ramdisk-overlay\/initramfs\.cpio\.gz \(\d+ bytes\)/.test(String(r.msg))),
          ).toBe(true),
        { timeout: 5000 },
      );
    } finally {
      await ctx.tftp?.close();
    }
  }, 120_000);
});
