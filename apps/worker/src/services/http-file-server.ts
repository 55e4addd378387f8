import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface HttpFileServerOptions {
  /** address to bind, e.g. the dispatcher IP the DUTs reach */
  host: string;
  /** TCP port; 0 picks a free one */
  port: number;
  /** called once per request: `sent <path> (<bytes> bytes) to <peer>` or why it was refused */
  onRequest?: (message: string) => void;
}

/**
 * A read-only HTTP server for one job's files (LAVA workers serve `/tmp/<job>/…` from their
 * Apache; Magma starts one per job on a free port): only the URL paths {@link publish}ed are served
 * (GET and HEAD), anything else is 404 — no directory is exposed; a malformed target (bad
 * %-escape) is 400.
 */
export class HttpFileServer {
  private readonly files = new Map<string, string>();
  private readonly served = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /**
   * Binds the server.
   * @throws Error when the address cannot be bound
   */
  static async start(options: HttpFileServerOptions): Promise<HttpFileServer> {
    const log = options.onRequest ?? (() => {});
    let self: HttpFileServer | undefined;
    const server = createServer((req, res) => {
      const peer = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
      let urlPath: string;
      try {
        urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      } catch (e) {
        // a bad %-escape or an unparsable target: the client's fault, never the worker's crash
        log(`refused a malformed request target from ${peer} (400 ${(e as Error).message})`);
        res.writeHead(400).end("bad request\n");
        return;
      }
      const file = self?.files.get(urlPath);
      if (req.method !== "GET" && req.method !== "HEAD") {
        log(`refused ${req.method} ${urlPath} from ${peer} (405)`);
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (!file) {
        log(`refused ${urlPath} to ${peer} (404 not found)`);
        res.writeHead(404).end("not found\n");
        return;
      }
      stat(file).then(
        (st) => {
          res.writeHead(200, { "content-length": st.size, "content-type": "application/octet-stream" });
          if (req.method === "HEAD") {
            res.end();
            return;
          }
          self?.served.set(urlPath, (self.served.get(urlPath) ?? 0) + 1);
          const stream = createReadStream(file);
          stream.on("error", () => res.destroy());
          res.on("finish", () => log(`sent ${urlPath} (${st.size} bytes) to ${peer}`));
          stream.pipe(res);
        },
        (e: Error) => {
          log(`refused ${urlPath} to ${peer} (500 ${e.message})`);
          res.writeHead(500).end();
        },
      );
    });
    server.on("connection", (s) => {
      self?.sockets.add(s);
      s.on("close", () => self?.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    self = new HttpFileServer(server, options.host, port);
    return self;
  }

  /** Serves `file` at `urlPath` (e.g. `/tmp/42/overlay.tar.gz`) from now on. */
  publish(urlPath: string, file: string): void {
    this.files.set(urlPath, file);
  }

  /** How many GET requests for `urlPath` were answered with the file (200). */
  downloads(urlPath: string): number {
    return this.served.get(urlPath) ?? 0;
  }

  /** Stops listening and drops open connections; idempotent. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
