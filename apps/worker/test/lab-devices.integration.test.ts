/**
 * Devices the way labs have them: DUT consoles behind ser2net (telnet), power commands run by a
 * PDU-like script, a simulated U-Boot board on a socat PTY pair, and a QEMU DUT behind ser2net —
 * all real processes (socat, ser2net 4, QEMU under TCG, the board simulator), waited on by
 * conditions. Each test file gets its own directory and ports.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { TLogRecord } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, serveDir } from "./helpers.ts";
import {
  freePort,
  POWER_CONTROLLER,
  powerCommands,
  startSer2net,
  startSerialCable,
  writePowerConfig,
  type SerialCable,
  type Started,
} from "../../../tests/tools/lab-serial.ts";

let dir: string;
let workerDir: string;
let dutDir: string;
let server: Awaited<ReturnType<typeof serveDir>>;
let ser2net: Started;
const cables: Record<string, SerialCable> = {};
const ports: Record<string, number> = {};
const DEVICES = ["bbb-01", "bbb-02", "bbb-03", "qemu-ser-01", "qemu-net-01"] as const;
/** bbb-03 has its own ser2net, restarted mid-boot by a test */
const SHARED = DEVICES.filter((d) => d !== "bbb-03");
let ser2netB: Started | undefined;

beforeAll(async () => {
  dutDir = buildDut();
  server = await serveDir(dutDir);
  dir = mkdtempSync(path.join(os.tmpdir(), "magma-lab-"));
  workerDir = path.join(dir, "worker");
  for (const d of DEVICES) {
    cables[d] = await startSerialCable(dir, d);
    ports[d] = await freePort();
  }
  ser2net = await startSer2net(
    dir,
    SHARED.map((d) => ({ name: d, port: ports[d]!, device: cables[d]!.deviceTty })),
  );
  ser2netB = await startSer2net(dir, [{ name: "bbb-03", port: ports["bbb-03"]!, device: cables["bbb-03"]!.deviceTty }], "ser2net-bbb-03");
  writePowerConfig(dir, "bbb-01", {
    kind: "uboot-sim",
    boardTty: cables["bbb-01"]!.boardTty,
    simArgs: ["--bootdelay", "2", "--login", "root"],
  });
  writePowerConfig(dir, "bbb-02", {
    kind: "uboot-sim",
    boardTty: cables["bbb-02"]!.boardTty,
    simArgs: ["--bootdelay", "1", "--kernel-seconds", "4"],
  });
  writePowerConfig(dir, "bbb-03", {
    kind: "uboot-sim",
    boardTty: cables["bbb-03"]!.boardTty,
    simArgs: ["--bootdelay", "1", "--kernel-seconds", "4"],
  });
  writePowerConfig(dir, "qemu-ser-01", {
    kind: "qemu",
    boardTty: cables["qemu-ser-01"]!.boardTty,
    qemuArgs: [
      "-machine",
      "pc,accel=tcg",
      "-m",
      "256M",
      "-kernel",
      path.join(dutDir, "vmlinuz"),
      "-initrd",
      path.join(dutDir, "initramfs.cpio.gz"),
      "-append",
      "console=ttyS0,115200 quiet",
    ],
  });
  // a QEMU DUT with a NIC on QEMU user networking (the worker is 10.0.2.2 from inside); its /init
  // waits for the DHCP lease before the shell (magma.net=wait), as transfer_overlay downloads at once
  writePowerConfig(dir, "qemu-net-01", {
    kind: "qemu",
    boardTty: cables["qemu-net-01"]!.boardTty,
    qemuArgs: [
      "-machine",
      "pc,accel=tcg",
      "-m",
      "256M",
      "-kernel",
      path.join(dutDir, "vmlinuz"),
      "-initrd",
      path.join(dutDir, "initramfs.cpio.gz"),
      "-append",
      "console=ttyS0,115200 quiet magma.net=wait",
      "-netdev",
      "user,id=n0",
      "-device",
      "e1000,netdev=n0",
    ],
  });
}, 120_000);

afterAll(async () => {
  for (const d of DEVICES) {
    if (dir) execFileSync("bash", [POWER_CONTROLLER, "--dir", dir, "off", d], { stdio: "ignore" });
  }
  await ser2net?.stop();
  await ser2netB?.stop();
  for (const c of Object.values(cables)) await c.stop();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** U-Boot commands of the beaglebone-black device type (TFTP from the worker, then bootz). */
const BBB_COMMANDS = {
  ramdisk: [
    "setenv serverip {SERVER_IP}",
    "setenv tftpdstp {TFTP_PORT}",
    "tftp {KERNEL_ADDR} {KERNEL}",
    "tftp {RAMDISK_ADDR} {RAMDISK}",
    "setenv bootargs console=ttyO0,115200n8 root=/dev/ram0",
    "{BOOTX}",
  ],
};

function device(hostname: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    device_type: hostname.startsWith("bbb") ? "beaglebone-black" : "qemu-ser2net",
    hostname,
    connection_command: `telnet 127.0.0.1 ${ports[hostname]}`,
    ...powerCommands(dir, hostname),
    ...(hostname.startsWith("bbb")
      ? { bootloader_prompt: "=> ", interrupt_prompt: "Hit any key to stop autoboot", interrupt_char: " ", boot_commands: BBB_COMMANDS }
      : {}),
    ...extra,
  });
}

function ubootJob(opts: { commands?: string | string[]; login?: boolean } = {}): string {
  return stringify({
    job_name: "bbb ramdisk over tftp",
    device_type: "beaglebone-black",
    visibility: "public",
    timeouts: { job: { minutes: 3 }, action: { minutes: 1 } },
    actions: [
      {
        deploy: {
          to: "tftp",
          kernel: { url: `${server.url}/vmlinuz`, type: "zimage" },
          ramdisk: { url: `${server.url}/initramfs.cpio.gz` },
        },
      },
      {
        boot: {
          method: "u-boot",
          commands: opts.commands ?? "ramdisk",
          prompts: ["root@bbb:~# "],
          timeout: { minutes: 1 },
          ...(opts.login ? { auto_login: { login_prompt: "login:", username: "root" } } : {}),
        },
      },
    ],
  });
}

const status = (d: string) => execFileSync("bash", [POWER_CONTROLLER, "--dir", dir, "status", d], { encoding: "utf8" }).trim();
const texts = (log: TLogRecord[], lvl: string) => log.filter((r) => r.lvl === lvl).map((r) => String(r.msg));
function dump(log: TLogRecord[]): string {
  return log
    .slice(-50)
    .map((r) => `${r.lvl}: ${typeof r.msg === "string" ? r.msg : JSON.stringify(r.msg)}`)
    .join("\n");
}

describe("lab devices behind ser2net with power control", () => {
  it("boots the simulated U-Boot board through u-boot: power on, interrupt, TFTP, bootz, auto-login, prompt", async () => {
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 401,
      bundle: { definition: ubootJob({ login: true }), device: device("bbb-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
    });
    if (outcome.result !== "pass") console.error(dump(log));
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    const target = texts(log, "target");
    expect(target.some((l) => l.includes("Hit any key to stop autoboot"))).toBe(true);
    expect(target.filter((l) => /Bytes transferred = \d+/.test(l))).toHaveLength(2);
    expect(target.some((l) => l.includes("Linux version 6.1.0-magma-sim"))).toBe(true);
    const info = texts(log, "info");
    expect(info.some((l) => /^tftp: sent kernel\/vmlinuz \(\d+ bytes\)/.test(l))).toBe(true);
    expect(info.some((l) => l.startsWith("Calling hard_reset_command: "))).toBe(true);
    expect(info.some((l) => l.startsWith("Calling power_off_command: "))).toBe(true);
    expect(texts(log, "input")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^setenv serverip 127\.0\.0\.1$/),
        expect.stringMatching(/^bootz 0x82000000 0x83000000$/),
        "root",
      ]),
    );
    expect(status("bbb-01")).toBe("bbb-01: off");
  }, 90_000);

  it("a U-Boot error (TFTP File not found) fails the job at once with error_type Job, naming U-Boot's answer", async () => {
    const log: TLogRecord[] = [];
    const commands = ["setenv serverip {SERVER_IP}", "setenv tftpdstp {TFTP_PORT}", "tftp {KERNEL_ADDR} no/such/zImage", "{BOOTX}"];
    const outcome = await runJob({
      jobId: 402,
      bundle: { definition: ubootJob({ commands }), device: device("bbb-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Job");
    expect(outcome.errors).toBe("U-Boot answered 'TFTP error: 'File not found' (1)' to 'tftp 0x82000000 no/such/zImage'");
    expect(status("bbb-01")).toBe("bbb-01: off");
  }, 60_000);

  it("bootm with nothing loaded is refused by U-Boot: error_type Job", async () => {
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 403,
      bundle: { definition: ubootJob({ commands: ["bootm 0x82000000"] }), device: device("bbb-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome).toMatchObject({ result: "fail", error_type: "Job" });
    expect(outcome.errors).toContain("U-Boot answered 'Wrong Image Format for bootm command' to 'bootm 0x82000000'");
  }, 60_000);

  it("a failing power command is an Infrastructure error carrying the command's output", async () => {
    const log: TLogRecord[] = [];
    const dev = device("bbb-01", { hard_reset_command: "echo 'pdu: outlet 7 does not answer' >&2; exit 3" });
    const outcome = await runJob({
      jobId: 404,
      bundle: { definition: ubootJob(), device: dev },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Infrastructure");
    expect(outcome.errors).toMatch(/^hard_reset_command failed \(exit code 3\): .*; output: pdu: outlet 7 does not answer$/);
    expect(texts(log, "debug")).toContain("hard_reset_command: pdu: outlet 7 does not answer");
  }, 60_000);

  it("boots a QEMU DUT behind ser2net (power-controller starts QEMU on the cable) with boot method minimal", async () => {
    const log: TLogRecord[] = [];
    const job = stringify({
      job_name: "qemu behind ser2net",
      device_type: "qemu-ser2net",
      visibility: "public",
      timeouts: { job: { minutes: 3 } },
      actions: [{ boot: { method: "minimal", prompts: ["magma-dut:/# "], timeout: { minutes: 2 } } }],
    });
    const outcome = await runJob({
      jobId: 405,
      bundle: { definition: job, device: device("qemu-ser-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
    });
    if (outcome.result !== "pass") console.error(dump(log));
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    expect(texts(log, "target").some((l) => l.includes("magma-dut: ready"))).toBe(true);
    expect(status("qemu-ser-01")).toBe("qemu-ser-01: off");
  }, 150_000);

  it("minimal boot + transfer_overlay: the DUT downloads the overlay over HTTP, unpacks it, and the test action reports pass/fail/measurement", async () => {
    const log: TLogRecord[] = [];
    const job = stringify({
      job_name: "qemu behind ser2net, overlay over http",
      device_type: "qemu-ser2net",
      visibility: "public",
      timeouts: { job: { minutes: 4 } },
      actions: [
        {
          boot: {
            method: "minimal",
            prompts: ["magma-dut:/# "],
            timeout: { minutes: 2 },
            transfer_overlay: { download_command: "wget -q", unpack_command: "tar -C / -xzf" },
          },
        },
        {
          test: {
            timeout: { minutes: 1 },
            definitions: [
              {
                from: "inline",
                name: "smoke",
                path: "inline/smoke.yaml",
                repository: {
                  metadata: { format: "Lava-Test Test Definition 1.0", name: "smoke" },
                  run: {
                    steps: [
                      "lava-test-case kernel --shell test -d /proc/1",
                      "lava-test-case no-such-file --shell test -e /no/such/file",
                      "lava-test-case boot-time --result pass --measurement 1.5 --units seconds",
                      'lava-test-case overlay-server --shell test -n "$LAVA_DISPATCHER_IP"',
                    ],
                  },
                },
              },
            ],
          },
        },
      ],
    });
    const outcome = await runJob({
      jobId: 409,
      bundle: { definition: job, device: device("qemu-net-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
      overlayHttp: { ip: "10.0.2.2", bind: "127.0.0.1" },
    });
    if (outcome.result !== "pass") console.error(dump(log));
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    const inputs = texts(log, "input");
    expect(inputs).toEqual(
      expect.arrayContaining([
        "rm -f overlay.tar.gz",
        expect.stringMatching(/^wget -q http:\/\/10\.0\.2\.2:\d+\/tmp\/409\/overlay\.tar\.gz$/),
        "tar -C / -xzf overlay.tar.gz",
        "/lava-409/bin/lava-test-runner /lava-409/0",
      ]),
    );
    expect(texts(log, "info").some((l) => /^http: sent \/tmp\/409\/overlay\.tar\.gz \(\d+ bytes\) to 127\.0\.0\.1:\d+$/.test(l))).toBe(
      true,
    );
    expect(texts(log, "info")).toContain("Overlay unpacked: /lava-409");
    const results = log.filter((r) => r.lvl === "results").map((r) => r.msg as Record<string, unknown>);
    const byCase = (c: string) => results.find((r) => r.definition === "0_smoke" && r.case === c);
    expect(byCase("kernel")).toMatchObject({ result: "pass" });
    expect(byCase("no-such-file")).toMatchObject({ result: "fail" });
    expect(byCase("boot-time")).toMatchObject({ result: "pass", measurement: 1.5, units: "seconds" });
    expect(byCase("overlay-server")).toMatchObject({ result: "pass" });
    expect(results.find((r) => r.definition === "lava" && r.case === "overlay-unpack")).toMatchObject({ result: "pass" });
    expect(status("qemu-net-01")).toBe("qemu-net-01: off");
  }, 200_000);

  it("transfer_overlay on a DUT that cannot reach the worker fails with error_type Infrastructure, saying no download arrived", async () => {
    const log: TLogRecord[] = [];
    const job = stringify({
      job_name: "qemu without a network, overlay over http",
      device_type: "qemu-ser2net",
      visibility: "public",
      timeouts: { job: { minutes: 3 } },
      actions: [
        {
          boot: {
            method: "minimal",
            prompts: ["magma-dut:/# "],
            timeout: { minutes: 2 },
            transfer_overlay: { download_command: "wget -q -T 3", unpack_command: "tar -C / -xzf" },
          },
        },
        {
          test: {
            timeout: { minutes: 1 },
            definitions: [
              {
                from: "inline",
                name: "x",
                path: "inline/x.yaml",
                repository: { metadata: { format: "Lava-Test Test Definition 1.0", name: "x" }, run: { steps: ["true"] } },
              },
            ],
          },
        },
      ],
    });
    // qemu-ser-01 has no NIC configured by the test (QEMU's default NIC is not waited for)
    const outcome = await runJob({
      jobId: 410,
      bundle: { definition: job, device: device("qemu-ser-01") },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => log.push(r),
      overlayHttp: { ip: "10.0.2.99", bind: "127.0.0.1" },
    });
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Infrastructure");
    expect(outcome.errors).toMatch(
      /^the DUT did not download the overlay from http:\/\/10\.0\.2\.99:\d+\/tmp\/410\/overlay\.tar\.gz \(no request reached the worker's HTTP server\)/,
    );
    expect(status("qemu-ser-01")).toBe("qemu-ser-01: off");
  }, 200_000);

  it("ser2net restarting mid-boot: the worker re-dials within connection_reconnect_seconds and the boot completes", async () => {
    const log: TLogRecord[] = [];
    let restarted: Promise<void> | undefined;
    const outcome = await runJob({
      jobId: 407,
      bundle: { definition: ubootJob(), device: device("bbb-03", { connection_reconnect_seconds: 15 }) },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => {
        log.push(r);
        if (!restarted && r.lvl === "target" && String(r.msg).includes("Starting kernel")) {
          restarted = (async () => {
            await ser2netB!.stop();
            ser2netB = await startSer2net(
              dir,
              [{ name: "bbb-03", port: ports["bbb-03"]!, device: cables["bbb-03"]!.deviceTty }],
              "ser2net-bbb-03",
            );
          })();
        }
      },
    });
    await restarted;
    if (outcome.result !== "pass") console.error(dump(log));
    expect(restarted).toBeDefined();
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    const port = ports["bbb-03"];
    expect(texts(log, "warning").some((l) => l.startsWith(`connection to telnet 127.0.0.1:${port} lost (`))).toBe(true);
    expect(texts(log, "info").some((l) => new RegExp(`^reconnected to telnet 127\\.0\\.0\\.1:${port} after \\d+ attempt`).test(l))).toBe(
      true,
    );
    expect(status("bbb-03")).toBe("bbb-03: off");
  }, 60_000);

  it("a cancel during the U-Boot boot ends Canceled and powers the board off", async () => {
    const ctrl = new AbortController();
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 408,
      bundle: { definition: ubootJob(), device: device("bbb-01") },
      workerDir,
      workerName: "lab-worker",
      signal: ctrl.signal,
      sink: (r) => {
        log.push(r);
        if (r.lvl === "target" && String(r.msg).includes("Bytes transferred") && !ctrl.signal.aborted) setImmediate(() => ctrl.abort());
      },
    });
    expect(outcome).toMatchObject({ result: "fail", error_type: "Canceled" });
    expect(texts(log, "info").some((l) => l.startsWith("Calling power_off_command: "))).toBe(true);
    expect(status("bbb-01")).toBe("bbb-01: off");
  }, 60_000);

  it("pulling the serial cable mid-boot fails the job with error_type Infrastructure and says the connection was lost", async () => {
    const log: TLogRecord[] = [];
    let pulled = false;
    const outcome = await runJob({
      jobId: 406,
      bundle: { definition: ubootJob(), device: device("bbb-02", { connection_reconnect_seconds: 3 }) },
      workerDir,
      workerName: "lab-worker",
      sink: (r) => {
        log.push(r);
        if (!pulled && r.lvl === "target" && String(r.msg).includes("Starting kernel")) {
          pulled = true;
          void cables["bbb-02"]!.stop();
        }
      },
    });
    expect(pulled).toBe(true);
    expect(outcome.result).toBe("fail");
    expect(outcome.error_type).toBe("Infrastructure");
    expect(outcome.errors).toMatch(
      new RegExp(`^connection to telnet 127\\.0\\.0\\.1:${ports["bbb-02"]} lost \\(.+\\) and not re-established within 3 seconds`),
    );
    expect(texts(log, "warning").some((l) => l.includes(`connection to telnet 127.0.0.1:${ports["bbb-02"]} lost`))).toBe(true);
    expect(existsSync(cables["bbb-02"]!.deviceTty)).toBe(false);
  }, 60_000);
});
