import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile, readFile } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TUrlTestDefinitionRef } from "@magma/protocol";
import { InfrastructureError, JobError, LavaError } from "../../../errors.ts";
import { confinedPath } from "../../confine.ts";
import type { JobLog } from "../../job-log.ts";
import type { OverlayDefinition } from "../../overlay.ts";
import { fetchHttpOnly } from "./download.ts";
import { collectFiles, MAX_TEST_REPO_BYTES, MAX_TEST_REPO_FILES, readTestDefinition } from "./testdef-files.ts";

/** Runs GNU tar (no shell, LC_ALL=C) until `deadlineMs`. @returns {code, stdout, stderr}; never rejects on a non-zero exit */
function tar(
  args: string[],
  o: { cwd: string; deadlineMs: number; signal: AbortSignal },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const timeout = Math.max(1000, o.deadlineMs - Date.now());
  return new Promise((resolve, reject) => {
    execFile(
      "tar",
      args,
      { cwd: o.cwd, env: { PATH: "/usr/local/bin:/usr/bin:/bin", LC_ALL: "C" }, timeout, signal: o.signal, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { killed?: boolean; code?: unknown }) | null;
        if (e?.killed) reject(new InfrastructureError(`tar timed out after ${Math.round(timeout / 1000)} s`));
        else if (e && typeof e.code !== "number") reject(e);
        else resolve({ code: e ? Number(e.code) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * Downloads `url` to `file` over http(s) with the image downloads' rules ({@link fetchHttpOnly}:
 * http/https redirects only) and at most `cap` bytes.
 * @throws JobError for a 4xx answer or a body over the cap; InfrastructureError when the server is
 *   unreachable or answers 5xx
 */
async function download(
  ref: TUrlTestDefinitionRef,
  file: string,
  what: string,
  o: { signal: AbortSignal; deadlineMs: number; maxDownloadBytes: number },
): Promise<number> {
  const url = ref.repository;
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(1000, o.deadlineMs - Date.now()))]);
  let res: Response;
  try {
    res = await fetchHttpOnly(url, { ...(ref.headers ? { headers: ref.headers } : {}), signal });
  } catch (e) {
    if (o.signal.aborted) throw o.signal.reason;
    if (e instanceof LavaError) throw e;
    const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
    throw new InfrastructureError(`${what}: unable to download '${url}': ${cause}`);
  }
  if (!res.ok || !res.body) {
    const msg = `${what}: resource unavailable at '${url}' (${res.status})`;
    throw res.status >= 400 && res.status < 500 ? new JobError(msg) : new InfrastructureError(msg);
  }
  const cap = o.maxDownloadBytes;
  const tooBig = () =>
    new JobError(`${what}: '${url}' is larger than the worker's limit of ${cap} bytes (MAGMA_WORKER_MAX_DOWNLOAD_BYTES)`);
  if (Number(res.headers.get("content-length") ?? 0) > cap) {
    await res.body.cancel();
    throw tooBig();
  }
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      cb(size > cap ? tooBig() : null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), meter, createWriteStream(file), {
      signal,
    });
  } catch (e) {
    if (o.signal.aborted) throw o.signal.reason;
    if (e instanceof LavaError) throw e;
    throw new InfrastructureError(`${what}: unable to download '${url}': ${(e as Error).message}`);
  }
  return size;
}

/**
 * Fetches one `from: url` test definition, as LAVA's UrlRepoAction: downloads `repository`, unpacks
 * it with `tar -xf` (compression detected by tar, `--strip-components` from `strip-components`) into
 * `dir`, and reads the test definition at `path`. GNU tar refuses members with `..` or absolute
 * paths; the listing is checked against {@link MAX_TEST_REPO_BYTES} / {@link MAX_TEST_REPO_FILES}
 * before anything is unpacked, and symbolic links never reach the overlay. A download tar does not
 * recognise is taken as the test definition file itself, stored at `path` (a Magma addition: LAVA
 * only untars).
 * @param dir the test's directory (inside the job directory; replaced when it exists)
 * @returns the parsed test definition and the files (no `commitId`: LAVA reports none for url)
 * @throws InfrastructureError when the server is unreachable, answers 5xx or times out; JobError for a
 *   4xx answer, a download or tarball over the caps, a tarball tar cannot unpack, or a missing or
 *   invalid test definition at `path`
 */
export async function fetchUrlTestDefinition(
  ref: TUrlTestDefinitionRef,
  dir: string,
  o: { log: JobLog; deadlineMs: number; signal: AbortSignal; maxDownloadBytes: number },
): Promise<NonNullable<OverlayDefinition["resolved"]>> {
  const what = `test definition ${ref.name}`;
  await rm(dir, { recursive: true, force: true });
  const downloads = `${dir}.download`;
  await rm(downloads, { recursive: true, force: true });
  await mkdir(downloads, { recursive: true });
  const base = path.posix.basename(new URL(ref.repository).pathname) || "testdef";
  const file = confinedPath(downloads, `${what} download`, base);
  o.log.info(`Fetching tests from ${ref.repository}`);
  const size = await download(ref, file, what, o);
  o.log.debug(`${what}: ${size} bytes downloaded to ${file}`);
  await mkdir(dir, { recursive: true });
  const run = { cwd: dir, deadlineMs: o.deadlineMs, signal: o.signal };
  const listing = await tar(["--list", "--verbose", "--numeric-owner", "-f", file], run);
  const lines = listing.stdout.split("\n").filter((l) => l.trim() !== "");
  if (listing.code === 0 && lines.length) {
    let bytes = 0;
    for (const l of lines) bytes += Number(/^\S+\s+\S+\s+(\d+)\s/.exec(l)?.[1] ?? 0);
    if (bytes > MAX_TEST_REPO_BYTES || lines.length > MAX_TEST_REPO_FILES)
      throw new JobError(
        `${what}: the tarball unpacks to more than the overlay allows (${MAX_TEST_REPO_BYTES} bytes, ${MAX_TEST_REPO_FILES} files)`,
      );
    const strip = ref["strip-components"] ?? 0;
    o.log.info(`Untar tests from file ${file} to directory ${dir}, stripping ${strip} components`);
    const args = ["-xf", file, "--no-same-owner", "--no-same-permissions", "--no-overwrite-dir"];
    if (strip) args.push(`--strip-components=${strip}`);
    const out = await tar(args, run);
    if (out.code !== 0)
      throw new JobError(
        `${what}: unable to untar '${ref.repository}' (exit code ${out.code}): ${out.stderr.trim().split("\n").slice(-3).join(" / ")}`,
      );
  } else {
    const head = (await readFile(file)).subarray(0, 6);
    const compressed = [
      [0x1f, 0x8b],
      [0xfd, 0x37, 0x7a, 0x58, 0x5a],
      [0x42, 0x5a, 0x68],
      [0x28, 0xb5, 0x2f, 0xfd],
    ].some((m) => m.every((b, i) => head[i] === b));
    if (compressed || size > MAX_TEST_REPO_BYTES)
      throw new JobError(`${what}: unable to untar '${ref.repository}': ${listing.stderr.trim().split("\n").slice(-2).join(" / ")}`);
    // not a tarball: the download is the test definition itself
    o.log.info(`${ref.repository} is not a tarball: using it as the test definition ${ref.path}`);
    const target = confinedPath(dir, `${what} path`, ref.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await readFile(file));
  }
  await rm(downloads, { recursive: true, force: true });
  const testdef = await readTestDefinition(dir, ref.path, what, ref.repository, o.log);
  return { testdef, files: await collectFiles(dir, what) };
}
