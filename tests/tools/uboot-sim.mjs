#!/usr/bin/env node
/**
 * A simulated U-Boot board on a serial line (test tool, not product code; docs/devices.md
 * describes the device it stands for). Opens the board end of a socat PTY pair
 * with serialport and behaves like a BeagleBone Black's U-Boot:
 *   banner → "Hit any key to stop autoboot:  N" countdown (a key stops it; else autoboot fails to
 *   "=> ") → `=> ` prompt with line echo, accepting
 *     setenv NAME [VALUE…] · printenv [NAME] · echo … · version · help · reset · boot (runs bootcmd)
 *     tftp|tftpboot [ADDR] FILE — fetches FILE over real TFTP from ${serverip} port ${tftpdstp:-69}
 *       (with curl): "Bytes transferred = N (hex)", or "TFTP error: 'File not found' (1)"
 *     bootz|bootm|booti ADDR [RAMDISK|-] [FDT] — "ERROR: can't get kernel image!" when nothing was
 *       loaded at ADDR, "Wrong Ramdisk Image Format" for an empty ramdisk address; else
 *       "Starting kernel ...", a kernel-style log over ~2 s, then a login prompt (--login) or a
 *       busybox-like shell prompt (`root@bbb:~# `) answering echo, uname, cat /proc/version, exit.
 * Usage: node uboot-sim.mjs --tty PATH [--bootdelay S] [--hostname H] [--login USER] [--password PW]
 * Exits on SIGTERM (power off). All timing comes from timers; nothing waits on a busy loop.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";

const { values: opt } = parseArgs({
  options: {
    tty: { type: "string" },
    bootdelay: { type: "string", default: "2" },
    hostname: { type: "string", default: "bbb" },
    login: { type: "string" },
    password: { type: "string" },
    "kernel-seconds": { type: "string", default: "2" },
  },
});
if (!opt.tty) {
  process.stderr.write("usage: uboot-sim.mjs --tty PATH [--bootdelay S] [--hostname H] [--login USER] [--password PW]\n");
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "uboot-sim-"));
const port = new SerialPort({ path: opt.tty, baudRate: 115200, autoOpen: false });
const out = (s) => port.write(s.replace(/\n/g, "\r\n"));
const env = { bootdelay: opt.bootdelay, bootcmd: "run mmcboot", ipaddr: "192.168.0.2", ethaddr: "c8:a0:30:ab:cd:ef" };
/** address (lower-case hex, no 0x) → {file, size} loaded there */
const memory = new Map();
let mode = "off"; // countdown | uboot | busy | booting | login | password | shell
let line = "";
let countdownTimer;
const timers = new Set();
const later = (ms, fn) => {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
};

function shutdown() {
  for (const t of timers) clearTimeout(t);
  clearInterval(countdownTimer);
  rmSync(tmp, { recursive: true, force: true });
  if (port.isOpen) port.close(() => process.exit(0));
  else process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

port.open((err) => {
  if (err) {
    process.stderr.write(`uboot-sim: cannot open ${opt.tty}: ${err.message}\n`);
    process.exit(1);
  }
  port.on("data", (d) => onInput(d.toString("latin1")));
  powerOn();
});

function powerOn() {
  out("\nU-Boot SPL 2024.01 (Magma simulated board)\nTrying to boot from MMC1\n");
  later(100, () => {
    out(
      "\n\nU-Boot 2024.01 (Magma simulated board)\n\nCPU  : AM335X-GP rev 2.1\nModel: TI AM335x BeagleBone Black (simulated)\nDRAM:  512 MiB\nCore:  160 devices, 18 uclasses, devicetree: separate\nMMC:   OMAP SD/MMC: 0, OMAP SD/MMC: 1\nNet:   eth2: ethernet@4a100000\n",
    );
    let n = Number(env.bootdelay);
    mode = "countdown";
    out(`Hit any key to stop autoboot: ${String(n).padStart(2)} `);
    countdownTimer = setInterval(() => {
      n--;
      out(`\b\b\b${String(n).padStart(2)} `);
      if (n <= 0) {
        clearInterval(countdownTimer);
        out("\n");
        mode = "busy";
        runLine(env.bootcmd);
      }
    }, 1000);
  });
}

function prompt() {
  mode = "uboot";
  out("=> ");
}

function onInput(text) {
  for (const ch of text) {
    if (mode === "countdown") {
      clearInterval(countdownTimer);
      out("\b\b\b 0 \n");
      prompt();
      continue; // the interrupting key is swallowed, as U-Boot does
    }
    if (mode === "busy" || mode === "booting" || mode === "off") continue;
    if (ch === "\r" || ch === "\n") {
      if (ch === "\n" && lastWasCr) {
        lastWasCr = false;
        continue;
      }
      lastWasCr = ch === "\r";
      out("\n");
      const l = line;
      line = "";
      onLine(l);
    } else if (ch === "\x7f" || ch === "\b") {
      if (line) {
        line = line.slice(0, -1);
        out("\b \b");
      }
    } else if (ch === "\x03") {
      line = "";
      out("^C\n");
      if (mode === "uboot") prompt();
      else if (mode === "shell") shellPrompt();
    } else {
      line += ch;
      if (mode !== "password") out(ch);
    }
  }
}
let lastWasCr = false;

function onLine(l) {
  if (mode === "uboot") {
    mode = "busy";
    runLine(l);
  } else if (mode === "login") {
    if (opt.password !== undefined) {
      mode = "password";
      out("Password: ");
    } else shellPrompt();
  } else if (mode === "password") {
    if (l === opt.password) {
      out("\n");
      shellPrompt();
    } else {
      out("\nLogin incorrect\n");
      loginPrompt();
    }
  } else if (mode === "shell") shellCommand(l.trim());
}

const expand = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => env[a ?? b] ?? "");

/** Runs one U-Boot command line (`;`-separated commands), then shows the prompt unless it booted. */
function runLine(l) {
  const cmds = l
    .split(";")
    .map((c) => c.trim())
    .filter(Boolean);
  const next = () => {
    const c = cmds.shift();
    if (c === undefined) return prompt();
    runCommand(c, (ok) => (ok === "booted" ? undefined : ok ? next() : prompt()));
  };
  next();
}

function runCommand(c, done) {
  const [name, ...args] = c.split(/\s+/);
  const xargs = args.map(expand);
  switch (name) {
    case "setenv":
      if (!args[0]) {
        out("setenv - set environment variables\n\nUsage:\nsetenv name value ...\n");
        return done(false);
      }
      if (args.length === 1) delete env[args[0]];
      else env[args[0]] = args.slice(1).join(" ");
      return done(true);
    case "printenv":
      if (args[0]) {
        if (env[args[0]] === undefined) {
          out(`## Error: "${args[0]}" not defined\n`);
          return done(false);
        }
        out(`${args[0]}=${env[args[0]]}\n`);
      } else for (const [k, v] of Object.entries(env)) out(`${k}=${v}\n`);
      return done(true);
    case "echo":
      out(`${xargs.join(" ")}\n`);
      return done(true);
    case "version":
      out("U-Boot 2024.01 (Magma simulated board)\narm-linux-gnueabihf-gcc (Debian 12.2.0-14) 12.2.0\n");
      return done(true);
    case "help":
      out(
        "bootm   - boot application image from memory\nbootz   - boot Linux zImage image from memory\nprintenv- print environment variables\nsetenv  - set environment variables\ntftpboot- load file via network using TFTP protocol\n",
      );
      return done(true);
    case "reset":
      out("resetting ...\n");
      mode = "off";
      memory.clear();
      later(200, powerOn);
      return done("booted");
    case "boot":
      runLine(env.bootcmd ?? "");
      return done("booted");
    case "run":
      if (args[0] === "mmcboot") {
        out("switch to partitions #0, OK\nmmc0 is current device\nScanning mmc 0:1...\n** No boot file defined **\n");
        return done(false);
      }
      out(`## Error: "${args[0]}" not defined\n`);
      return done(false);
    case "tftp":
    case "tftpboot":
      return tftp(xargs, done);
    case "bootz":
    case "bootm":
    case "booti":
      return bootKernel(name, xargs, done);
    default:
      out(`Unknown command '${name}' - try 'help'\n`);
      return done(false);
  }
}

const norm = (a) =>
  (a ?? "")
    .toLowerCase()
    .replace(/^0x/, "")
    .replace(/^0+(?=.)/, "");

function tftp(args, done) {
  const [addr, file] = args.length >= 2 ? args : [env.loadaddr ?? "82000000", args[0]];
  if (!env.serverip) {
    out("*** ERROR: `serverip' not set\n");
    return done(false);
  }
  if (!file) {
    out("*** ERROR: `bootfile' not set\n");
    return done(false);
  }
  const tftpPort = env.tftpdstp ?? "69";
  out(
    `link up on port 0, speed 100, full duplex\nUsing ethernet@4a100000 device\nTFTP from server ${env.serverip}; our IP address is ${env.ipaddr}\nFilename '${file}'.\nLoad address: 0x${norm(addr)}\nLoading: `,
  );
  const dest = path.join(tmp, `load-${norm(addr)}`);
  execFile(
    "curl",
    ["-sS", "--tftp-blksize", "1468", "--max-time", "20", "-o", dest, `tftp://${env.serverip}:${tftpPort}/${file}`],
    (err) => {
      if (mode === "off") return;
      if (err) {
        // curl exit 68: the server answered "File not found"; anything else: no answer
        if (err.code === 68) out("\nTFTP error: 'File not found' (1)\nNot retrying...\n");
        else out("T T T T T T T T T T \nRetry count exceeded; starting again\n");
        memory.delete(norm(addr));
        return done(false);
      }
      const size = statSync(dest).size;
      out(
        `${"#".repeat(Math.max(1, Math.min(65, Math.ceil(size / 65536))))}\n\t 1.2 MiB/s\ndone\nBytes transferred = ${size} (${size.toString(16)} hex)\n`,
      );
      memory.set(norm(addr), { file, size });
      env.filesize = size.toString(16);
      done(true);
    },
  );
}

function bootKernel(name, args, done) {
  const [kaddr, raddr, faddr] = args;
  const kernel = memory.get(norm(kaddr ?? env.loadaddr ?? "82000000"));
  if (!kernel || kernel.size === 0) {
    if (name === "bootm")
      out(
        `## Booting kernel from Legacy Image at ${norm(kaddr)} ...\nWrong Image Format for bootm command\nERROR: can't get kernel image!\n`,
      );
    else out(`Bad Linux ARM zImage magic!\n`);
    return done(false);
  }
  if (raddr && raddr !== "-" && !memory.get(norm(raddr.split(":")[0]))) {
    out(`Wrong Ramdisk Image Format\nRamdisk image is corrupt or invalid\n`);
    return done(false);
  }
  if (faddr) out(`## Flattened Device Tree blob at ${norm(faddr)}\n   Booting using the fdt blob at 0x${norm(faddr)}\n`);
  out(`Kernel image @ 0x${norm(kaddr)} [ 0x000000 - 0x${kernel.size.toString(16)} ]\n\nStarting kernel ...\n\n`);
  mode = "booting";
  const lines = [
    "Booting Linux on physical CPU 0x0",
    "Linux version 6.1.0-magma-sim (magma@sim) (arm-linux-gnueabihf-gcc (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT Debian 6.1.0",
    "CPU: ARMv7 Processor [413fc082] revision 2 (ARMv7), cr=10c5387d",
    "OF: fdt: Machine model: TI AM335x BeagleBone Black",
    "Memory: 496MB = 496MB total",
    `Kernel command line: console=ttyS0,115200n8 ${env.bootargs ?? ""}`.trim(),
    "Calibrating delay loop... 996.14 BogoMIPS (lpj=4980736)",
    "NET: Registered PF_INET protocol family",
    "Freeing unused kernel image (initmem) memory: 2048K",
    "Run /init as init process",
  ];
  const step = (Number(opt["kernel-seconds"]) * 1000) / lines.length;
  lines.forEach((l, i) => later(step * (i + 1), () => out(`[${((step * (i + 1)) / 1000).toFixed(6).padStart(12)}] ${l}\n`)));
  later(step * (lines.length + 1), () => {
    out("\nMagma simulated board\n");
    if (opt.login) loginPrompt();
    else shellPrompt();
  });
  done("booted");
}

function loginPrompt() {
  mode = "login";
  out(`${opt.hostname} login: `);
}

function shellPrompt() {
  mode = "shell";
  out(`root@${opt.hostname}:~# `);
}

function shellCommand(c) {
  if (c === "") return shellPrompt();
  if (c.startsWith("echo ")) out(`${expand(c.slice(5)).replace(/^(['"])(.*)\1$/, "$2")}\n`);
  else if (c === "uname -a") out(`Linux ${opt.hostname} 6.1.0-magma-sim #1 SMP PREEMPT armv7l GNU/Linux\n`);
  else if (c === "cat /proc/version") out("Linux version 6.1.0-magma-sim (magma@sim) #1 SMP PREEMPT\n");
  else if (c === "exit") return loginPrompt();
  else out(`sh: ${c.split(/\s+/)[0]}: not found\n`);
  shellPrompt();
}
