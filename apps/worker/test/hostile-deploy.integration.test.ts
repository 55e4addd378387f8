import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TDeployTmpfs, type TLogRecord } from "@magma/protocol";
import { HttpDownloadAction } from "../src/dispatcher/actions/deploy/download.ts";
import { DeployImagesAction } from "../src/dispatcher/actions/deploy/tmpfs.ts";
import { JobError } from "../src/errors.ts";
import type { JobContext } from "../src/dispatcher/job.ts";
import { Pipeline, runAction } from "../src/dispatcher/pipeline.ts";
import { jobContext } from "./helpers.ts";

/**
 * A hostile deploy reaching the worker without the submission checks (a tampered bundle, a bug in
 * the instance): the worker confines every path to the job directory again, caps download sizes
 * and follows redirects to http/https only. Real HTTP server, real files.
 */

let server: Server;
let base: string;
let root: string;

const IMAGE = Buffer.from("kernel bytes\n".repeat(100));

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "magma-hostile-deploy-"));
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/vmlinuz") res.writeHead(200, { "content-length": IMAGE.length }).end(req.method === "HEAD" ? undefined : IMAGE);
    else if (url === "/big") res.writeHead(200, { "content-length": 10_000 }).end(req.method === "HEAD" ? undefined : Buffer.alloc(10_000));
    else if (url === "/stream") {
      // no content-length: the cap must hold while streaming
      res.writeHead(200);
      if (req.method === "HEAD") return void res.end();
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      res.end();
    } else if (url === "/bomb.gz") {
      const gz = gzipSync(Buffer.alloc(1_000_000));
      res.writeHead(200, { "content-length": gz.length }).end(req.method === "HEAD" ? undefined : gz);
    } else if (url === "/to-file") res.writeHead(302, { location: "file:///etc/passwd" }).end();
    else if (url === "/to-image") res.writeHead(302, { location: "/vmlinuz" }).end();
    else if (url === "/loop") res.writeHead(302, { location: "/loop" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

function context(jobDir: string, log: TLogRecord[], maxDownloadBytes?: number): JobContext {
  mkdirSync(jobDir, { recursive: true });
  return jobContext(jobDir, log, maxDownloadBytes ? { maxDownloadBytes } : {});
}

/** Runs `action` as the job pipeline would: added to a pipeline (timeouts, children), then runAction. */
function run(action: HttpDownloadAction | DeployImagesAction, ctx: JobContext) {
  if (!action.timeoutMs) new Pipeline().add(action, { job: { minutes: 1 }, action: { minutes: 1 } });
  return runAction(action, ctx, undefined, Date.now() + 30_000, new AbortController().signal);
}

describe("worker deploy confinement (submission checks bypassed)", () => {
  it("a traversal image name is refused by the worker and nothing is written outside the job directory", async () => {
    const sandbox = path.join(root, "t1");
    const jobDir = path.join(sandbox, "worker", "jobs", "1");
    const log: TLogRecord[] = [];
    const ctx = context(jobDir, log);
    const before = tree(sandbox);
    const params: TDeployTmpfs = {
      to: "tmpfs",
      images: { "../../../escaped": { url: `${base}/vmlinuz` }, kernel: { url: `${base}/vmlinuz` } },
    };
    const deploy = new DeployImagesAction(params, []);
    new Pipeline().add(deploy, { job: { minutes: 1 }, action: { minutes: 1 } });
    // validate (what runJob does first) names the problem
    expect(await deploy.validate(ctx)).toEqual([expect.stringContaining("image name '../../../escaped' is not allowed")]);
    // and running the deploy anyway still refuses before creating anything
    const err = await run(deploy, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as Error).message).toMatch(/image name '\.\.\/\.\.\/\.\.\/escaped' would write outside the job directory/);
    expect(existsSync(path.join(sandbox, "escaped"))).toBe(false);
    expect(tree(sandbox)).toEqual(before);
    expect(log.some((r) => r.lvl === "error" && String(r.msg).includes("would write outside the job directory"))).toBe(true);
  });

  it("an absolute image name and a name with a subdirectory are refused too", async () => {
    const sandbox = path.join(root, "t2");
    const jobDir = path.join(sandbox, "jobs", "1");
    const ctx = context(jobDir, []);
    const outside = path.join(sandbox, "abs-target");
    await expect(run(new HttpDownloadAction(outside, { url: `${base}/vmlinuz` }), ctx)).rejects.toThrow(
      /would write outside the job directory/,
    );
    await expect(run(new HttpDownloadAction("kernel", { url: `${base}/vmlinuz` }, "../.."), ctx)).rejects.toThrow(
      /would write outside the job directory/,
    );
    expect(existsSync(outside)).toBe(false);
    expect(tree(sandbox)).toEqual(["jobs", path.join("jobs", "1")]);
    // a plain name still lands inside
    await run(new HttpDownloadAction("kernel", { url: `${base}/vmlinuz` }), ctx);
    expect(ctx.images.get("kernel")).toBe(path.join(jobDir, "kernel", "vmlinuz"));
  });

  it("caps downloads (declared size, streamed size, decompressed size) with a JobError naming the limit", async () => {
    const ctx = context(path.join(root, "t3", "jobs", "1"), [], 5000);
    await expect(run(new HttpDownloadAction("kernel", { url: `${base}/big` }), ctx)).rejects.toThrow(
      /is 10000 bytes, over the worker's limit of 5000 bytes \(MAGMA_WORKER_MAX_DOWNLOAD_BYTES\)/,
    );
    await expect(run(new HttpDownloadAction("kernel", { url: `${base}/stream` }), ctx)).rejects.toThrow(
      /is larger than the worker's limit of 5000 bytes/,
    );
    await expect(run(new HttpDownloadAction("rootfs", { url: `${base}/bomb.gz`, compression: "gz" }), ctx)).rejects.toThrow(
      /image 'rootfs'.* is larger than the worker's limit of 5000 bytes/,
    );
    await run(new HttpDownloadAction("kernel", { url: `${base}/vmlinuz` }), ctx);
  });

  it("follows redirects to http(s) only, and not forever", async () => {
    const ctx = context(path.join(root, "t4", "jobs", "1"), []);
    const err = await run(new HttpDownloadAction("kernel", { url: `${base}/to-file` }), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as Error).message).toContain(
      `'${base}/to-file' redirects to 'file:///etc/passwd': only http and https redirects are followed`,
    );
    expect(await new HttpDownloadAction("kernel", { url: `${base}/to-file` }).validate(ctx)).toEqual([
      expect.stringContaining("only http and https redirects are followed"),
    ]);
    await expect(run(new HttpDownloadAction("kernel", { url: `${base}/loop` }), ctx)).rejects.toThrow(/redirects more than 10 times/);
    await run(new HttpDownloadAction("kernel", { url: `${base}/to-image` }), ctx);
    // the file keeps the name of the URL the job gave, as LAVA does
    expect(ctx.images.get("kernel")).toBe(path.join(ctx.jobDir, "kernel", "to-image"));
  });
});
