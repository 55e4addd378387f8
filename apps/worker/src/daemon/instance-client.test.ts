import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InstanceClient, InstanceHttpError } from "./instance-client.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real HTTP server on a free port; counts the TCP connections it accepted. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  let connections = 0;
  const server: Server = createServer(handler);
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

const bundle = { definition: "job_name: x", device: "hostname: d", dispatcher: null, env: null, "env-dut": null };

describe("InstanceClient", () => {
  it("keeps one connection alive for sequential calls and sends the token", async () => {
    const tokens: (string | undefined)[] = [];
    const srv = await serve((req, res) => {
      tokens.push(req.headers["lava-token"] as string | undefined);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(bundle));
    });
    const client = new InstanceClient(`${srv.url}/`);
    cleanups.push(() => client.close());
    for (let i = 0; i < 5; i++) expect(await client.jobBundle(7, "jt7")).toEqual(bundle);
    expect(tokens).toEqual(Array(5).fill("jt7"));
    expect(srv.connections()).toBe(1);
  });

  it("an aborted long-poll rejects with the signal's reason; a 409 and a non-JSON answer are InstanceHttpErrors", async () => {
    const srv = await serve((req, res) => {
      if (req.url!.startsWith("/scheduler/internal/v1/workers/hang/")) return; // never answers
      if (req.url!.startsWith("/scheduler/internal/v1/workers/old/")) return void res.writeHead(409).end("Version mismatch");
      res.writeHead(200, { "content-type": "text/html" }).end("<html>proxy error</html>");
    });
    const client = new InstanceClient(srv.url);
    cleanups.push(() => client.close());
    const ctrl = new AbortController();
    const ping = client.ping("hang", "wt", 60_000, ctrl.signal);
    ctrl.abort(new Error("worker stopping"));
    await expect(ping).rejects.toThrow("worker stopping");
    const mismatch = await client.ping("old", "wt", 0).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(InstanceHttpError);
    expect((mismatch as InstanceHttpError).status).toBe(409);
    expect((mismatch as InstanceHttpError).transient).toBe(false);
    await expect(client.postState(3, "jt3", { state: "RUNNING" })).rejects.toThrow(/answer is not JSON: <html>proxy error/);
  });

  it("an unreachable instance is a transient error (status 0) naming the request; only http(s) URLs are accepted", async () => {
    const srv = await serve(() => {});
    const port = new URL(srv.url).port;
    // close it: nothing listens on the port any more
    for (const c of cleanups.splice(0)) await c();
    const client = new InstanceClient(`http://127.0.0.1:${port}`);
    cleanups.push(() => client.close());
    const err = await client.jobBundle(1, "jt1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstanceHttpError);
    expect((err as InstanceHttpError).status).toBe(0);
    expect((err as InstanceHttpError).transient).toBe(true);
    expect((err as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/scheduler\/internal\/v1\/jobs\/1\/: .*ECONNREFUSED/);
    expect(() => new InstanceClient("ftp://lab")).toThrow("instance URL 'ftp://lab': only http and https are supported");
  });
});
