import dgram from "node:dgram";
import { open, realpath, type FileHandle } from "node:fs/promises";
import path from "node:path";

// RFC 1350 opcodes and error codes
const RRQ = 1;
const WRQ = 2;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;
const ERR_NOT_FOUND = 1;
const ERR_ACCESS = 2;
const ERR_ILLEGAL = 4;
const ERR_OPTION = 8;

/** Retransmissions of one block before a transfer is abandoned. */
const MAX_RETRIES = 5;
/** Wait for an ACK before retransmitting, in ms (RFC 2349 `timeout` may change it). */
const DEFAULT_RETRANSMIT_MS = 1000;
const DEFAULT_BLOCK_SIZE = 512;

export interface TftpServerOptions {
  /** directory served; requests outside it are refused ("Access violation") */
  root: string;
  /** address to bind, e.g. the dispatcher IP the DUTs reach */
  host: string;
  /** UDP port; 0 picks a free one (U-Boot's `tftpdstp` sets a board's destination port) */
  port: number;
  /** called once per transfer: `sent <file> (<bytes> bytes) to <peer>` or the refusal */
  onTransfer?: (message: string) => void;
}

function errorPacket(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0, ERROR, 0, code]), Buffer.from(message, "ascii"), Buffer.from([0])]);
}

/** Splits a RRQ/WRQ body into its NUL-terminated strings. */
function strings(buf: Buffer): string[] {
  return buf.toString("ascii").split("\0").slice(0, -1);
}

/**
 * A read-only TFTP server (RFC 1350, with RFC 2347 option negotiation for `blksize` (RFC 2348),
 * `tsize` and `timeout` (RFC 2349)) serving files under `root` to U-Boot boards — LAVA workers run
 * tftpd-hpa on port 69 for this; Magma starts one per job on a free port so jobs and tests never
 * share a root. Each transfer runs on its own socket (a new TID), lock-step with retransmission.
 * Write requests are refused. Paths are resolved inside `root` (symlinks included).
 */
export class TftpServer {
  private readonly socket = dgram.createSocket("udp4");
  private readonly transfers = new Set<dgram.Socket>();
  private rootReal = "";

  private constructor(private readonly options: TftpServerOptions) {}

  /**
   * Binds the server.
   * @throws Error when the address cannot be bound
   */
  static async start(options: TftpServerOptions): Promise<TftpServer> {
    const s = new TftpServer(options);
    s.rootReal = await realpath(options.root);
    await new Promise<void>((resolve, reject) => {
      s.socket.once("error", reject);
      s.socket.bind(options.port, options.host, () => {
        s.socket.off("error", reject);
        resolve();
      });
    });
    s.socket.on("message", (msg, rinfo) => {
      // whatever a request holds, the server answers or drops it: it never throws into the worker
      s.onRequest(msg, rinfo).catch((e: unknown) => {
        s.options.onTransfer?.(`request from ${rinfo.address}:${rinfo.port} failed: ${(e as Error).message}`);
        try {
          s.socket.send(errorPacket(0, "Request failed"), rinfo.port, rinfo.address);
        } catch {
          /* socket closed */
        }
      });
    });
    s.socket.on("error", () => {});
    return s;
  }

  /** The bound UDP port. */
  get port(): number {
    return this.socket.address().port;
  }

  get host(): string {
    return this.options.host;
  }

  /** Stops listening and abandons transfers in flight (idempotent). */
  async close(): Promise<void> {
    for (const t of this.transfers) t.close();
    this.transfers.clear();
    await new Promise<void>((r) => {
      try {
        this.socket.close(() => r());
      } catch {
        r();
      }
    });
  }

  private async resolve(name: string): Promise<string | undefined> {
    const rel = name.replace(/^\/+/, "");
    const candidate = path.resolve(this.rootReal, rel);
    if (candidate !== this.rootReal && !candidate.startsWith(this.rootReal + path.sep)) return undefined;
    try {
      const real = await realpath(candidate);
      return real.startsWith(this.rootReal + path.sep) ? real : undefined;
    } catch {
      return candidate; // missing: reported as not found when opened
    }
  }

  private async onRequest(msg: Buffer, peer: dgram.RemoteInfo): Promise<void> {
    const reply = (buf: Buffer) => this.socket.send(buf, peer.port, peer.address);
    if (msg.length < 4) return reply(errorPacket(ERR_ILLEGAL, "Malformed packet"));
    const op = msg.readUInt16BE(0);
    if (op === WRQ) return reply(errorPacket(ERR_ACCESS, "Write not allowed"));
    if (op !== RRQ) return reply(errorPacket(ERR_ILLEGAL, "Illegal TFTP operation"));
    const [filename = "", , ...opts] = strings(msg.subarray(2));
    if (!filename) return reply(errorPacket(ERR_ILLEGAL, "Malformed request: no file name"));
    const requested: Record<string, string> = {};
    for (let i = 0; i + 1 < opts.length; i += 2) requested[opts[i]!.toLowerCase()] = opts[i + 1]!;
    const file = await this.resolve(filename);
    if (!file) {
      this.options.onTransfer?.(`refused ${filename} to ${peer.address}:${peer.port}: outside the TFTP root`);
      return reply(errorPacket(ERR_ACCESS, "Access violation"));
    }
    let fh: FileHandle;
    try {
      fh = await open(file, "r");
    } catch {
      this.options.onTransfer?.(`${filename} not found (requested by ${peer.address}:${peer.port})`);
      return reply(errorPacket(ERR_NOT_FOUND, "File not found"));
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      this.options.onTransfer?.(`${filename} is not a file (requested by ${peer.address}:${peer.port})`);
      return reply(errorPacket(ERR_NOT_FOUND, "File not found"));
    }
    const size = st.size;
    const ack: string[] = [];
    let blockSize = DEFAULT_BLOCK_SIZE;
    let retransmitMs = DEFAULT_RETRANSMIT_MS;
    if (requested["blksize"] !== undefined) {
      const n = Number(requested["blksize"]);
      if (Number.isInteger(n) && n >= 8) {
        blockSize = Math.min(n, 65464);
        ack.push("blksize", String(blockSize));
      }
    }
    if (requested["tsize"] !== undefined) ack.push("tsize", String(size));
    if (requested["timeout"] !== undefined) {
      const t = Number(requested["timeout"]);
      if (Number.isInteger(t) && t >= 1 && t <= 255) {
        retransmitMs = t * 1000;
        ack.push("timeout", String(t));
      }
    }
    await this.send(fh, size, filename, peer, blockSize, retransmitMs, ack);
  }

  /** Lock-step transfer on a fresh socket: DATA n, wait for ACK n, retransmit on silence. */
  private async send(
    fh: FileHandle,
    size: number,
    name: string,
    peer: dgram.RemoteInfo,
    blockSize: number,
    retransmitMs: number,
    oack: string[],
  ): Promise<void> {
    const sock = dgram.createSocket("udp4");
    this.transfers.add(sock);
    const finish = async (message: string) => {
      this.transfers.delete(sock);
      try {
        sock.close();
      } catch {
        /* closed by close() */
      }
      await fh.close();
      this.options.onTransfer?.(message);
    };
    await new Promise<void>((r) => sock.bind(0, this.options.host, () => r()));
    const blocks = Math.floor(size / blockSize) + 1; // the last block is shorter than blockSize (maybe empty)
    let block = oack.length ? 0 : 1;
    let retries = 0;
    let timer: NodeJS.Timeout | undefined;
    const packet = async (n: number): Promise<Buffer> => {
      if (n === 0) return Buffer.concat([Buffer.from([0, OACK]), Buffer.from(oack.join("\0") + "\0", "ascii")]);
      const buf = Buffer.alloc(4 + blockSize);
      buf.writeUInt16BE(DATA, 0);
      buf.writeUInt16BE(n & 0xffff, 2);
      const { bytesRead } = await fh.read(buf, 4, blockSize, (n - 1) * blockSize);
      return buf.subarray(0, 4 + bytesRead);
    };
    await new Promise<void>((resolve) => {
      const transmit = async () => {
        clearTimeout(timer);
        let buf: Buffer;
        try {
          buf = await packet(block);
        } catch (e) {
          void finish(`sending ${name} to ${peer.address}:${peer.port} failed: ${(e as Error).message}`).then(resolve);
          return;
        }
        sock.send(buf, peer.port, peer.address);
        timer = setTimeout(() => {
          if (++retries > MAX_RETRIES) {
            void finish(
              `sending ${name} to ${peer.address}:${peer.port} abandoned: no ACK for block ${block} after ${MAX_RETRIES} retries`,
            ).then(resolve);
            return;
          }
          void transmit();
        }, retransmitMs);
      };
      sock.on("message", (msg, from) => {
        if (msg.length < 4) return; // too short to be an ACK or ERROR: ignored, the retransmit timer goes on
        if (from.port !== peer.port || from.address !== peer.address) {
          sock.send(errorPacket(5, "Unknown transfer ID"), from.port, from.address);
          return;
        }
        const op = msg.readUInt16BE(0);
        if (op === ERROR) {
          clearTimeout(timer);
          // a client refusing our OACK (option error) or giving up
          void finish(`sending ${name} to ${peer.address}:${peer.port} stopped by the client: ${strings(msg.subarray(4))[0] ?? ""}`).then(
            resolve,
          );
          return;
        }
        if (op !== ACK || msg.readUInt16BE(2) !== (block & 0xffff)) return; // duplicate or stale ACK: wait
        if (block === blocks) {
          clearTimeout(timer);
          void finish(`sent ${name} (${size} bytes) to ${peer.address}:${peer.port}`).then(resolve);
          return;
        }
        block++;
        retries = 0;
        void transmit();
      });
      sock.on("error", () => {});
      void transmit();
    });
  }
}

export { ERR_OPTION as TFTP_ERR_OPTION };
