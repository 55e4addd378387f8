/**
 * The demo's real-lab-style device: a simulated U-Boot board (device type `beaglebone-black`,
 * hostname `bbb-01`) on a socat serial "cable", served by ser2net 4 on telnet port
 * MAGMA_DEMO_SER2NET_PORT (default 7001), switched by tests/tools/power-controller.sh. The worker
 * reaches it exactly as a lab worker reaches a board: `connection_command: telnet 127.0.0.1 7001`,
 * power commands, U-Boot interrupt and TFTP boot commands. The device starts Unknown, so the
 * instance runs the device type's health check (a TFTP ramdisk boot) on it first.
 */
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { POWER_CONTROLLER, powerCommands, startSer2net, startSerialCable, writePowerConfig } from "../../tests/tools/lab-serial.ts";
import type { LabExtras } from "./stack.ts";

const run = promisify(execFile);
export const BBB_HOSTNAME = "bbb-01";
export const BBB_DEVICE_TYPE = "beaglebone-black";

/** U-Boot commands of the device type: TFTP the kernel and ramdisk from the worker, then bootz. */
const BOOT_COMMANDS = {
  ramdisk: [
    "setenv serverip {SERVER_IP}",
    "setenv tftpdstp {TFTP_PORT}",
    "tftp {KERNEL_ADDR} {KERNEL}",
    "tftp {RAMDISK_ADDR} {RAMDISK}",
    "setenv bootargs console=ttyO0,115200n8 root=/dev/ram0",
    "{BOOTX}",
  ],
};

/** A TFTP ramdisk boot with auto-login: the device type's health check, and a job users can submit. */
export function bbbJob(artifactsUrl: string, name = "beaglebone-black health check"): string {
  return `job_name: ${name}
device_type: ${BBB_DEVICE_TYPE}
visibility: public
timeouts:
  job: {minutes: 5}
  action: {minutes: 2}
actions:
- deploy:
    to: tftp
    kernel: {url: "${artifactsUrl}/vmlinuz", type: zimage}
    ramdisk: {url: "${artifactsUrl}/initramfs.cpio.gz"}
- boot:
    method: u-boot
    commands: ramdisk
    auto_login: {login_prompt: "login:", username: root}
    prompts: ["root@bbb:~# "]
    timeout: {minutes: 2}
`;
}

/**
 * Starts the board's serial cable and ser2net, writes its power-controller configuration, and
 * returns the device type and device to seed (for {@link StackOptions.labExtras}).
 * @param stateDir where the cable links, ser2net.yaml, the board's pidfile and log go
 */
export async function ubootBoardExtras(stateDir: string, telnetPort: number, artifactsUrl: string): Promise<LabExtras> {
  const dir = path.join(stateDir, "lab-serial");
  mkdirSync(dir, { recursive: true });
  const cable = await startSerialCable(dir, BBB_HOSTNAME);
  let ser2net;
  try {
    ser2net = await startSer2net(dir, [{ name: BBB_HOSTNAME, port: telnetPort, device: cable.deviceTty }]);
  } catch (e) {
    await cable.stop();
    throw new Error(`ser2net for ${BBB_HOSTNAME} did not start on port ${telnetPort} (MAGMA_DEMO_SER2NET_PORT): ${(e as Error).message}`);
  }
  writePowerConfig(dir, BBB_HOSTNAME, { kind: "uboot-sim", boardTty: cable.boardTty, simArgs: ["--bootdelay", "2", "--login", "root"] });
  return {
    device_types: [
      {
        name: BBB_DEVICE_TYPE,
        description: "simulated BeagleBone Black (U-Boot over ser2net)",
        health_check: bbbJob(artifactsUrl),
        health_frequency: 24,
        health_denominator: "hours",
        dictionary: {
          bootloader_prompt: "=> ",
          interrupt_prompt: "Hit any key to stop autoboot",
          interrupt_char: " ",
          boot_commands: BOOT_COMMANDS,
        },
      },
    ],
    devices: [
      {
        hostname: BBB_HOSTNAME,
        device_type: BBB_DEVICE_TYPE,
        health: "Unknown",
        description: `simulated U-Boot board on ${cable.deviceTty}`,
        dictionary: { connection_command: `telnet 127.0.0.1 ${telnetPort}`, ...powerCommands(dir, BBB_HOSTNAME) },
      },
    ],
    stop: async () => {
      await run("bash", [POWER_CONTROLLER, "--dir", dir, "off", BBB_HOSTNAME]).catch(() => undefined);
      await ser2net.stop();
      await cable.stop();
    },
  };
}
