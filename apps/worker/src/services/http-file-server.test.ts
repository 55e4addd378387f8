import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { HttpFileServer } from "./http-file-server.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "magma-http-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("HttpFileServer", () => {
  it("serves only published paths (GET and HEAD), counts complete downloads, logs each request, and closes", async () => {
    const file = path.join(tmp, "overlay.tar.gz");
    writeFileSync(file, Buffer.from("overlay bytes"));
    const messages: string[] = [];
    const server = await HttpFileServer.start({ host: "127.0.0.1", port: 0, onRequest: (m) => messages.push(m) });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${base}/tmp/1/overlay.tar.gz`)).status).toBe(404);
      server.publish("/tmp/1/overlay.tar.gz", file);
      const head = await fetch(`${base}/tmp/1/overlay.tar.gz`, { method: "HEAD" });
      expect(head.headers.get("content-length")).toBe("13");
      expect(server.downloads("/tmp/1/overlay.tar.gz")).toBe(0);
      const res = await fetch(`${base}/tmp/1/overlay.tar.gz`);
      expect(await res.text()).toBe("overlay bytes");
      expect(server.downloads("/tmp/1/overlay.tar.gz")).toBe(1);
      expect((await fetch(`${base}/overlay.tar.gz`)).status).toBe(404);
      expect((await fetch(`${base}/tmp/1/overlay.tar.gz`, { method: "POST" })).status).toBe(405);
      await vi.waitFor(() => expect(messages).toContainEqual(expect.stringMatching(/^sent \/tmp\/1\/overlay\.tar\.gz /)));
      expect(messages).toContainEqual(expect.stringMatching(/^sent \/tmp\/1\/overlay\.tar\.gz \(13 bytes\) to 127\.0\.0\.1:\d+$/));
      expect(messages).toContainEqual(expect.stringMatching(/^refused \/overlay\.tar\.gz to 127\.0\.0\.1:\d+ \(404 not found\)$/));
    } finally {
      await server.close();
      await server.close();
    }
    await expect(fetch(`${base}/tmp/1/overlay.tar.gz`)).rejects.toThrow();
  });
});
