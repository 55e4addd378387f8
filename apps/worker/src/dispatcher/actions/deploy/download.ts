import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { downloadUrlProblem, DOWNLOAD_SCHEMES, imageNameProblem, type TDeployImage } from "@magma/protocol";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { InfrastructureError, JobError, LavaError } from "../../../errors.ts";
import type { JobContext } from "../../job.ts";
import { confinedPath, DEFAULT_MAX_DOWNLOAD_BYTES } from "../../confine.ts";
import { ImageCache, type CachedImage } from "../../image-cache.ts";

/** How long the validate stage waits for one URL check, in ms. */
const VALIDATE_URL_TIMEOUT_MS = 30_000;
const MB = 1024 * 1024;

/** Most redirects followed for one download (browsers and curl stop around 20; LAVA's requests 30). */
export const MAX_REDIRECTS = 10;

/**
 * `fetch` that follows redirects itself, only to http/https URLs (fetch would too, but without
 * saying why it stopped), at most {@link MAX_REDIRECTS} times.
 * @throws JobError naming the refused redirect target or the redirect loop; whatever fetch throws.
 */
export async function fetchHttpOnly(url: string, init: RequestInit): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await fetch(current, { ...init, redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !location) return res;
    await res.body?.cancel();
    const next = new URL(location, current);
    if (!(DOWNLOAD_SCHEMES as readonly string[]).includes(next.protocol)) {
      throw new JobError(`'${url}' redirects to '${next.href}': only http and https redirects are followed`);
    }
    current = next.href;
  }
  throw new JobError(`'${url}' redirects more than ${MAX_REDIRECTS} times`);
}

/** Local file name of a downloaded image: the URL's basename, without `.gz` when decompressed. */
export function localName(url: string, compression?: string): string {
  let base = path.posix.basename(new URL(url).pathname) || "image";
  if (compression === "gz") base = base.replace(/\.gz$/, "");
  return base;
}

/**
 * Downloads one image over HTTP(S), LAVA's `http-download`: streams to
 * `<jobDir>/<image name>/<basename>`, logs size and progress (every 5 %) and the rate, checks
 * `sha256sum` (of the bytes as downloaded), decompresses `compression: gz`.
 * Errors: 404 and other 4xx → JobError "Resource unavailable at '<url>' (<status>)"; unreachable
 * server or 5xx → InfrastructureError; checksum mismatch → JobError naming the image.
 */
export class HttpDownloadAction extends Action {
  static readonly name = "http-download";
  static readonly description = "use http to download the file";
  static readonly summary = "http download";

  /**
   * @param imageName the image's name in the job (`kernel`, `ramdisk`…)
   * @param subdir where under the job directory `<image name>/<basename>` is written (default: the job directory itself)
   */
  constructor(
    private readonly imageName: string,
    private readonly image: TDeployImage,
    private readonly subdir = "",
  ) {
    super();
  }

  override async validate(ctx: JobContext): Promise<string[]> {
    const { url } = this.image;
    const nameProblem = imageNameProblem(this.imageName);
    if (nameProblem) return [nameProblem];
    try {
      confinedPath(ctx.jobDir, `image name '${this.imageName}'`, this.subdir, this.imageName);
    } catch (e) {
      return [(e as Error).message];
    }
    const urlProblem = downloadUrlProblem(url);
    if (urlProblem) return [`image '${this.imageName}': ${urlProblem}`];
    if (this.image.compression && this.image.compression !== "gz")
      return [`Unsupported compression '${this.image.compression}' for image '${this.imageName}' (supported: gz)`];
    try {
      let res = await fetchHttpOnly(url, {
        method: "HEAD",
        headers: this.image.headers,
        signal: AbortSignal.timeout(VALIDATE_URL_TIMEOUT_MS),
      });
      if (res.status === 405 || res.status === 501) {
        // "Using GET because HEAD is not supported properly" (LAVA)
        const ctrl = new AbortController();
        res = await fetchHttpOnly(url, {
          headers: this.image.headers,
          signal: AbortSignal.any([ctrl.signal, AbortSignal.timeout(VALIDATE_URL_TIMEOUT_MS)]),
        });
        ctrl.abort();
      }
      if (!res.ok) return [`Resource unavailable at '${url}' (${res.status})`];
    } catch (e) {
      if (e instanceof LavaError) return [e.message];
      return [
        `Resource unavailable at '${url}' (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})`,
      ];
    }
    return [];
  }

  async run({ ctx, connection, signal }: ActionRunOptions): Promise<Connection> {
    const { url, compression, sha256sum } = this.image;
    const what = `image name '${this.imageName}'`;
    // resolved and checked before anything is created: the submission checks may have been bypassed
    const dir = confinedPath(ctx.jobDir, what, this.subdir, this.imageName);
    const file = confinedPath(dir, `file name of image '${this.imageName}'`, localName(url, compression));
    await mkdir(dir, { recursive: true });
    const cap = ctx.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
    ctx.log.info(`downloading ${url}`);
    ctx.log.info(`saving as ${file}`);
    // job-supplied request headers may carry credentials: such images are never cached
    const cache = this.image.headers && Object.keys(this.image.headers).length ? undefined : ctx.imageCache;
    const cached = await cache?.lookup(url, compression ?? "");
    let res: Response;
    try {
      res = await fetchHttpOnly(url, {
        headers: { ...this.image.headers, ...(cached ? ImageCache.conditionalHeaders(cached) : {}) },
        signal,
      });
      if (cached && res.status === 304) {
        await res.body?.cancel();
        if (await this.useCached(ctx, cache!, cached, file)) return connection;
        res = await fetchHttpOnly(url, { headers: this.image.headers, signal });
      }
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof LavaError) throw e;
      const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
      throw new InfrastructureError(`Unable to download '${url}': ${cause}`);
    }
    if (!res.ok || !res.body) {
      const msg = `Resource unavailable at '${url}' (${res.status})`;
      throw res.status >= 400 && res.status < 500 ? new JobError(msg) : new InfrastructureError(msg);
    }
    const total = Number(res.headers.get("content-length") ?? 0);
    const tooBig = (declared?: number) =>
      new JobError(
        `image '${this.imageName}' from '${url}' is ${declared === undefined ? "larger than" : `${declared} bytes, over`} the worker's limit of ${cap} bytes (MAGMA_WORKER_MAX_DOWNLOAD_BYTES)`,
      );
    if (total > cap) {
      await res.body.cancel();
      throw tooBig(total);
    }
    ctx.log.info(total ? `total size: ${total} (${Math.floor(total / MB)}MB)` : "total size: unknown");
    ctx.log.info(compression ? `Using ${compression} compression` : "No compression specified");
    const hash = createHash("sha256");
    let size = 0;
    let lastPct = -5;
    const started = Date.now();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (size > cap) return cb(tooBig());
        if (total) {
          const pct = Math.floor((size * 100) / total);
          if (pct >= lastPct + 5) {
            lastPct = pct - (pct % 5);
            ctx.log.debug(`progress ${String(pct).padStart(3)}% (${Math.floor(size / MB)}MB)`);
          }
        }
        cb(null, chunk);
      },
    });
    try {
      const source = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
      let unpacked = 0;
      const unpackedCap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          unpacked += chunk.length;
          cb(unpacked > cap ? tooBig() : null, chunk);
        },
      });
      if (compression === "gz") await pipeline(source, meter, createGunzip(), unpackedCap, createWriteStream(file), { signal });
      else await pipeline(source, meter, createWriteStream(file), { signal });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof LavaError) throw e;
      const msg = (e as Error).message;
      if (compression === "gz" && /header|gzip|zlib|unexpected end/i.test(msg))
        throw new JobError(`Unable to decompress image '${this.imageName}' from '${url}': ${msg}`);
      throw new InfrastructureError(`Unable to download '${url}': ${msg}`);
    }
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    ctx.log.info(`${Math.floor(size / MB)}MB downloaded in ${secs.toFixed(2)}s (${(size / MB / secs).toFixed(2)}MB/s)`);
    const digest = hash.digest("hex");
    if (sha256sum && digest.toLowerCase() !== sha256sum.toLowerCase()) {
      throw new JobError(`sha256sum mismatch for image '${this.imageName}' (${url}): expected ${sha256sum}, got ${digest}`);
    }
    if (sha256sum) ctx.log.info(`sha256sum of image '${this.imageName}' verified`);
    const validators = cache ? ImageCache.validators(res) : undefined;
    if (cache && validators) {
      await cache
        .store(url, compression ?? "", file, { sha256: digest, size, ...validators })
        .catch((e: Error) => ctx.log.warning(`could not keep '${url}' in the worker's image cache: ${e.message}`));
    }
    this.results = { label: this.imageName, sha256sum: digest, size };
    this.done(ctx, file);
    return connection;
  }

  private done(ctx: JobContext, file: string): void {
    ctx.images.set(this.imageName, file);
    if (this.image.image_arg) ctx.imageArgs.set(this.imageName, this.image.image_arg);
  }

  /**
   * The server answered 304 Not Modified to the cache's validators: copies the cached file and
   * checks its `sha256sum` as a download would. @returns false when the copy failed (evicted
   * meanwhile): the caller downloads instead. @throws JobError on a checksum mismatch
   */
  private async useCached(ctx: JobContext, cache: ImageCache, cached: CachedImage, file: string): Promise<boolean> {
    const { sha256sum } = this.image;
    const started = Date.now();
    try {
      await cache.copyTo(cached, file);
    } catch (e) {
      ctx.log.warning(`the worker's cached copy of '${cached.url}' could not be used (${(e as Error).message}): downloading it`);
      return false;
    }
    const validator = cached.etag ? `ETag ${cached.etag}` : `Last-Modified ${cached.lastModified}`;
    ctx.log.info(
      `not modified on the server (${validator}): using the worker's cached copy, ${Math.floor(cached.size / MB)}MB in ${((Date.now() - started) / 1000).toFixed(2)}s`,
    );
    if (sha256sum && cached.sha256.toLowerCase() !== sha256sum.toLowerCase()) {
      throw new JobError(`sha256sum mismatch for image '${this.imageName}' (${cached.url}): expected ${sha256sum}, got ${cached.sha256}`);
    }
    if (sha256sum) ctx.log.info(`sha256sum of image '${this.imageName}' verified`);
    this.results = { label: this.imageName, sha256sum: cached.sha256, size: cached.size, cached: true };
    this.done(ctx, file);
    return true;
  }
}
