/** One entry of a cpio archive: a directory or a regular file. Paths are relative ("lava-5/bin"). */
export type CpioEntry = { type: "dir"; path: string; mode: number } | { type: "file"; path: string; mode: number; data: Buffer | string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(fields: { ino: number; mode: number; nlink: number; mtime: number; size: number; nameSize: number }): Buffer {
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  // c_magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const s =
    "070701" + [fields.ino, fields.mode, 0, 0, fields.nlink, fields.mtime, fields.size, 0, 0, 0, 0, fields.nameSize, 0].map(hex).join("");
  return Buffer.from(s, "ascii");
}

/**
 * Writes a "newc" (SVR4, magic 070701) cpio archive, the format the Linux kernel unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header
 * per entry, the NUL-terminated name and the data each padded to 4 bytes, then `TRAILER!!!`.
 * Owner is root (uid/gid 0). Parent directories must be listed before their children.
 * @param entries directories (mode e.g. 0o755) and files (mode e.g. 0o755 for scripts)
 * @param mtimeS modification time in seconds since the epoch for every entry
 */
export function writeCpioNewc(entries: readonly CpioEntry[], mtimeS = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, nlink: number, data: Buffer) => {
    const nameBuf = Buffer.from(name + "\0", "utf8");
    const h = header({ ino: ino++, mode, nlink, mtime: mtimeS, size: data.length, nameSize: nameBuf.length });
    parts.push(h, nameBuf, Buffer.alloc(pad4(h.length + nameBuf.length)), data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    if (e.type === "dir") push(name, S_IFDIR | (e.mode & 0o7777), 2, Buffer.alloc(0));
    else push(name, S_IFREG | (e.mode & 0o7777), 1, Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, "utf8"));
  }
  push("TRAILER!!!", 0, 1, Buffer.alloc(0));
  return Buffer.concat(parts);
}
