import type { CpioEntry } from "./cpio.ts";

const BLOCK = 512;

/** Splits a path into ustar's `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) at a '/', or undefined when it cannot. */
function splitName(p: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(p) <= 100) return { prefix: "", name: p };
  for (let i = p.indexOf("/"); i !== -1; i = p.indexOf("/", i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { prefix, name };
  }
  return undefined;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(path: string, mode: number, size: number, type: "0" | "5" | "L", mtimeS: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { prefix, name } = splitName(path) ?? { prefix: "", name: path.slice(0, 100) };
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(mtimeS, 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum counted as spaces
  h.write(type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("root", 265, "ascii");
  h.write("root", 297, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/**
 * Writes a POSIX ustar archive of the same entries {@link writeCpioNewc} takes (directories and
 * regular files, owner root), for DUTs that unpack the overlay with `tar` (LAVA's
 * `transfer_overlay`). Directory names end in '/'; a path that does not fit ustar's 155 + 100 byte
 * name fields is preceded by a GNU `././@LongLink` entry; two zero blocks end the archive.
 * @param mtimeS modification time in seconds since the epoch for every entry
 */
export function writeTar(entries: readonly CpioEntry[], mtimeS = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  // a name that does not fit ustar's fields goes first in a GNU long-name entry (GNU tar, busybox)
  const longName = (name: string) => {
    if (splitName(name)) return;
    const data = Buffer.from(name + "\0", "utf8");
    parts.push(header("././@LongLink", 0o644, data.length, "L", mtimeS), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    if (e.type === "dir") {
      const dir = name.endsWith("/") ? name : name + "/";
      longName(dir);
      parts.push(header(dir, e.mode, 0, "5", mtimeS));
      continue;
    }
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, "utf8");
    longName(name);
    parts.push(header(name, e.mode, data.length, "0", mtimeS), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
