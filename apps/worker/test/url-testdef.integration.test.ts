import { execFileSync } from "node:child_process";
import { chmodSync, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TLogRecord } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, resultsOf, serveDir, testDefinitionJob } from "./helpers.ts";

// `from: url` test definitions (a tar.gz with strip-components, a single YAML file) and git `history`
// (true keeps `.git` in the test's directory, false removes it, as LAVA) on a real QEMU DUT. The
// tarball and the git repository (dumb HTTP after `git update-server-info`) come from a real HTTP server.
const DEVICE = "device_type: qemu\nhostname: qemu-url-01\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 256\n";

let images: Awaited<ReturnType<typeof serveDir>>;
let web: Server;
let webUrl = "";
let base: string;
let workerDir: string;
let head = "";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e.org" },
  }).trim();

/** Static files under `root` (nested paths, nothing outside it). */
async function serveTree(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.resolve(root, "." + rel);
    let size = -1;
    try {
      if (file.startsWith(root + path.sep) && statSync(file).isFile()) size = statSync(file).size;
    } catch {
      size = -1;
    }
    if (size < 0) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-length": size });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

beforeAll(async () => {
  images = await serveDir(buildDut());
  base = mkdtempSync(path.join(os.tmpdir(), "magma-url-testdef-"));
  workerDir = path.join(base, "worker");
  const served = path.join(base, "served");
  mkdirSync(served);
  // a tarball whose top directory is stripped: suite/smoke.yaml + suite/check.sh
  const tree = path.join(base, "tree", "top-level", "suite");
  mkdirSync(tree, { recursive: true });
  writeFileSync(
    path.join(tree, "smoke.yaml"),
    "metadata: {format: Lava-Test Test Definition 1.0, name: smoke-from-url}\nrun:\n  steps:\n  - ./suite/check.sh\n",
  );
  writeFileSync(path.join(tree, "check.sh"), '#!/bin/sh\nlava-test-case from-tarball --shell test "$(cat suite/DATA)" = tarball-data\n');
  chmodSync(path.join(tree, "check.sh"), 0o755);
  writeFileSync(path.join(tree, "DATA"), "tarball-data\n");
  execFileSync("tar", ["-czf", path.join(served, "tests.tar.gz"), "-C", path.join(base, "tree"), "top-level"]);
  // a single YAML file
  writeFileSync(
    path.join(served, "single.yaml"),
    "metadata: {format: Lava-Test Test Definition 1.0, name: single}\nrun:\n  steps:\n  - lava-test-case single-file --shell 'ls | grep -q single.yaml'\n",
  );
  // a git repository over dumb HTTP
  const work = path.join(base, "work");
  git(base, "init", "-q", "-b", "main", work);
  writeFileSync(
    path.join(work, "history.yaml"),
    "metadata: {format: Lava-Test Test Definition 1.0, name: history}\nrun:\n  steps:\n  - lava-test-case git-dir --shell 'test -f .git/HEAD'\n",
  );
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "one");
  head = git(work, "rev-parse", "HEAD");
  git(base, "clone", "-q", "--bare", work, path.join(served, "tests.git"));
  git(path.join(served, "tests.git"), "update-server-info");
  web = await serveTree(served);
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => web?.close(r));
  await images?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

const job = (definitions: string) => testDefinitionJob(images.url, "url test definition", definitions);

describe("from: url test definitions and git history", () => {
  it("runs a tarball's definition (strip-components) and a single YAML file; history keeps or removes .git", async () => {
    const log: TLogRecord[] = [];
    const defs = [
      `    - {from: url, repository: "${webUrl}/tests.tar.gz", path: suite/smoke.yaml, name: tarball, strip-components: 1, compression: gz}`,
      `    - {from: url, repository: "${webUrl}/single.yaml", path: single.yaml, name: single}`,
      `    - {from: git, repository: "${webUrl}/tests.git", path: history.yaml, name: with-history}`,
      `    - {from: git, repository: "${webUrl}/tests.git", path: history.yaml, name: no-history, history: false}`,
    ].join("\n");
    const outcome = await runJob({
      jobId: 401,
      bundle: { definition: job(defs), device: DEVICE },
      workerDir,
      workerName: "url-worker",
      sink: (r) => log.push(r),
    });
    if (outcome.result !== "pass")
      console.error(
        log
          .slice(-40)
          .map((r) => `${r.lvl}: ${JSON.stringify(r.msg)}`)
          .join("\n"),
      );
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    const r = resultsOf(log);
    const resultOf = (def: string, c: string) => r.find((x) => x.definition === def && x.case === c)?.result;
    expect(resultOf("0_tarball", "from-tarball")).toBe("pass");
    expect(resultOf("1_single", "single-file")).toBe("pass");
    // history (LAVA's default: true) keeps .git in the test's directory; history: false removes it
    expect(resultOf("2_with-history", "git-dir")).toBe("pass");
    expect(resultOf("3_no-history", "git-dir")).toBe("fail");
    expect(r.find((x) => x.definition === "lava" && x.case === "0_tarball")).toMatchObject({
      result: "pass",
      repository: `${webUrl}/tests.tar.gz`,
      path: "suite/smoke.yaml",
      revision: "unspecified",
    });
    expect(r.find((x) => x.definition === "lava" && x.case === "0_tarball")?.["commit_id"]).toBeUndefined();
    expect(r.find((x) => x.definition === "lava" && x.case === "2_with-history")).toMatchObject({ commit_id: head });
    const log2 = log.filter((x) => typeof x.msg === "string").map((x) => String(x.msg));
    expect(log2.some((m) => m.includes("history: false: removing"))).toBe(true);
    expect(log2.some((m) => m.includes("stripping 1 components"))).toBe(true);
  }, 240_000);

  it("a 404 is the job's error, an unreachable server the infrastructure's; a tarball without the path is the job's", async () => {
    const run = async (id: number, def: string) =>
      runJob({ jobId: id, bundle: { definition: job(def), device: DEVICE }, workerDir, workerName: "url-worker", sink: () => {} });
    const missing = await run(402, `    - {from: url, repository: "${webUrl}/missing.tar.gz", path: a.yaml, name: x}`);
    expect(missing).toMatchObject({ result: "fail", error_type: "Job" });
    expect(missing.errors).toContain(`resource unavailable at '${webUrl}/missing.tar.gz' (404)`);
    const closed = await run(403, `    - {from: url, repository: "http://127.0.0.1:9/t.tar.gz", path: a.yaml, name: x}`);
    expect(closed).toMatchObject({ result: "fail", error_type: "Infrastructure" });
    const noPath = await run(404, `    - {from: url, repository: "${webUrl}/tests.tar.gz", path: nothing.yaml, name: x}`);
    expect(noPath).toMatchObject({ result: "fail", error_type: "Job" });
    expect(noPath.errors).toContain("'nothing.yaml' does not exist in");
  }, 240_000);
});
