import net from "node:net";

/**
 * A free TCP port on 127.0.0.1: asked of the kernel (listen on port 0), then released, so a test
 * can give it to a process it starts. Every test stack uses its own ports this way.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
