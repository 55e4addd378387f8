import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type TDeployImage, type TLogRecord } from "@magma/protocol";
import { HttpDownloadAction } from "../src/dispatcher/actions/deploy/download.ts";
import { ImageCache } from "../src/dispatcher/image-cache.ts";
import type { JobContext } from "../src/dispatcher/job.ts";
import { Pipeline, runAction } from "../src/dispatcher/pipeline.ts";
import { jobContext } from "./helpers.ts";
import { JobError } from "../src/errors.ts";

/**
 * The worker's image cache against a real HTTP server: kept only with a validator, revalidated by
 * a conditional GET on every use (304 → the cached copy; anything else → a download), never for
 * images fetched with job-supplied headers, trimmed to its byte budget.
 */

/** What the server serves at each path; `etag`/`lastModified` undefined = no such validator. */
const files = new Map<string, { body: Buffer; etag?: string; lastModified?: string; cacheControl?: string }>();
/** Every GET the server answered: path, status, the conditional and auth headers it saw. */
let seen: { path: string; status: number; ifNoneMatch?: string; ifModifiedSince?: string; auth?: string }[] = [];
let server: Server;
let base: string;
let root: string;

function answer(req: IncomingMessage): { status: number; headers: Record<string, string>; body?: Buffer } {
  const f = files.get(req.url ?? "");
  if (!f) return { status: 404, headers: {} };
  const headers: Record<string, string> = {
    ...(f.etag ? { etag: f.etag } : {}),
    ...(f.lastModified ? { "last-modified": f.lastModified } : {}),
    ...(f.cacheControl ? { "cache-control": f.cacheControl } : {}),
  };
  const inm = req.headers["if-none-match"];
  const ims = req.headers["if-modified-since"];
  if ((inm && f.etag && inm === f.etag) || (!inm && ims && f.lastModified && ims === f.lastModified)) return { status: 304, headers };
  return { status: 200, headers: { ...headers, "content-length": String(f.body.length) }, body: f.body };
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "magma-image-cache-"));
  server = createServer((req, res) => {
    const a = answer(req);
    if (req.method === "GET")
      seen.push({
        path: req.url ?? "",
        status: a.status,
        ...(req.headers["if-none-match"] ? { ifNoneMatch: String(req.headers["if-none-match"]) } : {}),
        ...(req.headers["if-modified-since"] ? { ifModifiedSince: String(req.headers["if-modified-since"]) } : {}),
        ...(req.headers["authorization"] ? { auth: String(req.headers["authorization"]) } : {}),
      });
    res.writeHead(a.status, a.headers).end(req.method === "HEAD" ? undefined : a.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
});

let jobs = 0;
/** A fresh job context sharing `cache`; its log lines go to `log`. */
function context(cache: ImageCache | undefined, log: TLogRecord[] = []): JobContext {
  const jobDir = path.join(root, "jobs", String(++jobs));
  mkdirSync(jobDir, { recursive: true });
  return jobContext(jobDir, log, { jobId: jobs, ...(cache ? { imageCache: cache } : {}) });
}

/** Downloads `image` as image `kernel` in a new job of `cache`; returns the file's bytes and the action's results. */
async function download(cache: ImageCache | undefined, image: TDeployImage, log: TLogRecord[] = []) {
  const ctx = context(cache, log);
  const action = new HttpDownloadAction("kernel", image);
  new Pipeline().add(action, { job: { minutes: 1 }, action: { minutes: 1 } });
  await runAction(action, ctx, undefined, Date.now() + 30_000, new AbortController().signal);
  return { bytes: readFileSync(ctx.images.get("kernel")!), results: action.results };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("worker image cache", () => {
  it("keeps an image with an ETag, revalidates it on the next job (304 → cached copy), downloads it again once it changed", async () => {
    const cache = new ImageCache(path.join(root, "c1"), 1024 ** 2);
    const v1 = Buffer.from("kernel v1\n".repeat(500));
    files.set("/k1", { body: v1, etag: '"v1"' });
    const first = await download(cache, { url: `${base}/k1` });
    expect(first.bytes.equals(v1)).toBe(true);
    expect(first.results).toMatchObject({ sha256sum: sha(v1), size: v1.length });
    expect(seen).toEqual([{ path: "/k1", status: 200 }]);

    const log: TLogRecord[] = [];
    const second = await download(cache, { url: `${base}/k1`, sha256sum: sha(v1) }, log);
    expect(second.bytes.equals(v1)).toBe(true);
    expect(second.results).toMatchObject({ sha256sum: sha(v1), size: v1.length, cached: true });
    expect(seen[1]).toEqual({ path: "/k1", status: 304, ifNoneMatch: '"v1"' });
    expect(log.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/^not modified on the server \(ETag "v1"\): using the worker's cached copy/),
    );
    expect(log.map((l) => l.msg)).toContain("sha256sum of image 'kernel' verified");

    const v2 = Buffer.from("kernel v2, rebuilt\n".repeat(300));
    files.set("/k1", { body: v2, etag: '"v2"' });
    const third = await download(cache, { url: `${base}/k1` });
    expect(third.bytes.equals(v2)).toBe(true);
    expect(seen[2]).toEqual({ path: "/k1", status: 200, ifNoneMatch: '"v1"' });
    // and the new version is what the cache now holds
    await download(cache, { url: `${base}/k1` });
    expect(seen[3]).toEqual({ path: "/k1", status: 304, ifNoneMatch: '"v2"' });
  });

  it("revalidates by Last-Modified when there is no ETag; keeps the decompressed file of a gz image", async () => {
    const cache = new ImageCache(path.join(root, "c2"), 1024 ** 2);
    const plain = Buffer.from("initramfs\n".repeat(400));
    const gz = gzipSync(plain);
    files.set("/r.gz", { body: gz, lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" });
    const a = await download(cache, { url: `${base}/r.gz`, compression: "gz" });
    const b = await download(cache, { url: `${base}/r.gz`, compression: "gz" });
    expect(a.bytes.equals(plain)).toBe(true);
    expect(b.bytes.equals(plain)).toBe(true);
    expect(b.results).toMatchObject({ sha256sum: sha(gz), size: gz.length, cached: true });
    expect(seen.map((s) => [s.status, s.ifModifiedSince])).toEqual([
      [200, undefined],
      [304, "Tue, 01 Dec 2026 10:00:00 GMT"],
    ]);
    // the same URL without compression is another entry: downloaded, not the decompressed copy
    const raw = await download(cache, { url: `${base}/r.gz` });
    expect(raw.bytes.equals(gz)).toBe(true);
    expect(seen[2]).toEqual({ path: "/r.gz", status: 200 });
  });

  it("never caches without a validator, with Cache-Control no-store, or for a job sending its own headers", async () => {
    const cache = new ImageCache(path.join(root, "c3"), 1024 ** 2);
    files.set("/plain", { body: Buffer.from("no validators") });
    files.set("/nostore", { body: Buffer.from("no-store"), etag: '"x"', cacheControl: "no-store" });
    files.set("/secret", { body: Buffer.from("private build"), etag: '"s"' });
    for (let i = 0; i < 2; i++) {
      await download(cache, { url: `${base}/plain` });
      await download(cache, { url: `${base}/nostore` });
      await download(cache, { url: `${base}/secret`, headers: { Authorization: "Bearer job-secret" } });
    }
    expect(seen.every((s) => s.status === 200 && !s.ifNoneMatch && !s.ifModifiedSince)).toBe(true);
    expect(seen.filter((s) => s.path === "/secret").map((s) => s.auth)).toEqual(["Bearer job-secret", "Bearer job-secret"]);
    expect(existsSync(path.join(root, "c3")) ? readdirSync(path.join(root, "c3")) : []).toEqual([]);
  });

  it("a cached copy whose checksum does not match the job's sha256sum fails the job as a download would", async () => {
    const cache = new ImageCache(path.join(root, "c4"), 1024 ** 2);
    files.set("/k4", { body: Buffer.from("the right kernel"), etag: '"k4"' });
    await download(cache, { url: `${base}/k4` });
    const err = await download(cache, { url: `${base}/k4`, sha256sum: "0".repeat(64) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as Error).message).toMatch(/sha256sum mismatch for image 'kernel'/);
  });

  it("keeps to its byte budget by dropping the least recently used images", async () => {
    const cache = new ImageCache(path.join(root, "c5"), 2500);
    for (const n of ["a", "b", "c"]) files.set(`/${n}`, { body: Buffer.alloc(1000, n), etag: `"${n}"` });
    await download(cache, { url: `${base}/a` });
    await download(cache, { url: `${base}/b` });
    await download(cache, { url: `${base}/a` }); // a used again: b is now the least recently used
    await download(cache, { url: `${base}/c` }); // 3 000 bytes > 2 500: b goes
    expect(await cache.lookup(`${base}/a`)).toBeDefined();
    expect(await cache.lookup(`${base}/b`)).toBeUndefined();
    expect(await cache.lookup(`${base}/c`)).toBeDefined();
    // an image larger than the whole budget is downloaded but not kept
    files.set("/huge", { body: Buffer.alloc(3000, "h"), etag: '"h"' });
    await download(cache, { url: `${base}/huge` });
    expect(await cache.lookup(`${base}/huge`)).toBeUndefined();
  });

  it("a worker without a cache downloads every time and sends no conditional headers", async () => {
    files.set("/k6", { body: Buffer.from("k6"), etag: '"k6"' });
    await download(undefined, { url: `${base}/k6` });
    await download(undefined, { url: `${base}/k6` });
    expect(seen).toEqual([
      { path: "/k6", status: 200 },
      { path: "/k6", status: 200 },
    ]);
  });
});
