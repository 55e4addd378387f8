/**
 * The worker's cache of downloaded images, revalidated with the image server on every use.
 *
 * LAVA itself downloads every image of every job again; its labs put an HTTP cache (squid,
 * `HTTP_CACHE` in the dispatcher settings) in front of their image servers for that reason. Magma's
 * worker keeps that behaviour built in and standard: an image is kept only when its server gave a
 * validator (`ETag` or `Last-Modified`) and did not say `Cache-Control: no-store`, and every use
 * asks the server first with a conditional GET (`If-None-Match` / `If-Modified-Since`); only a
 * `304 Not Modified` answer makes the job copy the cached file, any other answer downloads again.
 * So a changed image is never served stale, and a job still fails when its image vanished.
 * Images fetched with job-supplied request `headers` (credentials) are never cached, so one job's
 * private image is never handed to another.
 *
 * Layout: `<dir>/<sha256(compression, url)>.img` (the file as the job used it, decompressed when
 * `compression: gz`) and `.json` beside it ({@link CachedImage}); writes go to temporary names
 * and are renamed into place, so concurrent jobs of one worker only ever see whole entries. Least
 * recently used entries are removed once the cache holds more than its byte budget.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";

/** One cached image: where its file is and what the server and the download said of it. */
export interface CachedImage {
  url: string;
  /** `compression` of the deploy that fetched it ("" when none): the cached file is the decompressed one */
  compression: string;
  /** sha256 (hex) and size (bytes) of the bytes as downloaded, as the download action reports them */
  sha256: string;
  size: number;
  /** the server's validators; at least one is set */
  etag?: string;
  lastModified?: string;
  /** absolute path of the cached file */
  file: string;
}

/** Default byte budget of the cache (MAGMA_WORKER_IMAGE_CACHE_BYTES): 4 GiB. */
export const DEFAULT_IMAGE_CACHE_BYTES = 4 * 1024 ** 3;

export class ImageCache {
  /**
   * @param dir directory of the cache (created on first store)
   * @param maxBytes byte budget of the cached files; least recently used entries go past it
   */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  private base(url: string, compression: string): string {
    return path.join(this.dir, createHash("sha256").update(`${compression}\0${url}`).digest("hex"));
  }

  /** The entry for `url` fetched with `compression` (undefined when none, or when it is incomplete). */
  async lookup(url: string, compression = ""): Promise<CachedImage | undefined> {
    const base = this.base(url, compression);
    try {
      const meta = JSON.parse(await readFile(`${base}.json`, "utf8")) as CachedImage;
      if (meta.url !== url || meta.compression !== compression) return undefined;
      await stat(`${base}.img`);
      return { ...meta, file: `${base}.img` };
    } catch {
      return undefined;
    }
  }

  /** The conditional request headers that revalidate `entry` with its server. */
  static conditionalHeaders(entry: CachedImage): Record<string, string> {
    return {
      ...(entry.etag ? { "if-none-match": entry.etag } : {}),
      ...(entry.lastModified ? { "if-modified-since": entry.lastModified } : {}),
    };
  }

  /**
   * Whether a response may be kept: 200, a validator, no `Cache-Control: no-store` / `private`.
   * @returns the validators to store, or undefined when the response must not be cached
   */
  static validators(res: Response): { etag?: string; lastModified?: string } | undefined {
    if (res.status !== 200) return undefined;
    const cc = (res.headers.get("cache-control") ?? "").toLowerCase();
    if (/\b(no-store|private)\b/.test(cc)) return undefined;
    const etag = res.headers.get("etag") ?? undefined;
    const lastModified = res.headers.get("last-modified") ?? undefined;
    if (!etag && !lastModified) return undefined;
    return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
  }

  /**
   * Copies the cached file of `entry` to `dest` (a reflink where the filesystem has them) and marks
   * the entry used. @throws the filesystem's error (e.g. the entry was just evicted)
   */
  async copyTo(entry: CachedImage, dest: string): Promise<void> {
    await copyFile(entry.file, dest, constants.COPYFILE_FICLONE);
    const now = new Date();
    await utimes(entry.file.replace(/\.img$/, ".json"), now, now).catch(() => {});
  }

  /**
   * Keeps a copy of `file` (a finished, checked download) for `url`, then trims the cache to its
   * budget. Files larger than the whole budget are not kept. @throws the filesystem's error
   */
  async store(
    url: string,
    compression: string,
    file: string,
    info: { sha256: string; size: number; etag?: string; lastModified?: string },
  ): Promise<void> {
    const { size: bytes } = await stat(file);
    if (bytes > this.maxBytes) return;
    await mkdir(this.dir, { recursive: true });
    const base = this.base(url, compression);
    const tmp = `${base}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await copyFile(file, `${tmp}.img`, constants.COPYFILE_FICLONE);
      const meta: Omit<CachedImage, "file"> = { url, compression, ...info };
      await writeFile(`${tmp}.json`, JSON.stringify(meta));
      await rename(`${tmp}.img`, `${base}.img`);
      await rename(`${tmp}.json`, `${base}.json`);
    } finally {
      await rm(`${tmp}.img`, { force: true });
      await rm(`${tmp}.json`, { force: true });
    }
    await this.trim();
  }

  /** Removes least recently used entries until the cached files fit the budget. */
  async trim(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries: { base: string; used: number; bytes: number }[] = [];
    for (const n of names) {
      if (!n.endsWith(".json") || n.includes(".tmp")) continue;
      const base = path.join(this.dir, n.slice(0, -".json".length));
      try {
        const [meta, img] = await Promise.all([stat(`${base}.json`), stat(`${base}.img`)]);
        entries.push({ base, used: meta.mtimeMs, bytes: img.size });
      } catch {
        // half-removed by a concurrent trim
      }
    }
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      await rm(`${e.base}.json`, { force: true });
      await rm(`${e.base}.img`, { force: true });
      total -= e.bytes;
    }
  }
}
