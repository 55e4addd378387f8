import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TLogRecord } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, resultsOf, serveDir, testDefinitionJob } from "./helpers.ts";

// `from: git` test definitions against a real git server (git daemon on 127.0.0.1, a repository
// made here) and a real QEMU DUT: the definition at `path` runs with the repository's own script,
// and LAVA's result fields (commit_id, repository, path) are there. Errors are classified as LAVA's.
const DEVICE = "device_type: qemu\nhostname: qemu-git-01\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 256\n";

let images: Awaited<ReturnType<typeof serveDir>>;
let daemon: ChildProcess;
let gitUrl = "";
let base: string;
let workerDir: string;
let head = "";
let first = "";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.org",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.org",
    },
  }).trim();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  images = await serveDir(buildDut());
  base = mkdtempSync(path.join(os.tmpdir(), "magma-git-testdef-"));
  workerDir = path.join(base, "worker");
  // a test-definitions repository: one definition that runs a script of the repository
  const work = path.join(base, "work");
  mkdirSync(path.join(work, "automated/smoke"), { recursive: true });
  git(base, "init", "-q", "-b", "main", work);
  writeFileSync(
    path.join(work, "automated/smoke/smoke.yaml"),
    [
      "metadata:",
      "  format: Lava-Test Test Definition 1.0",
      "  name: smoke-from-git",
      "  description: smoke tests kept in git",
      "params:",
      "  GREETING: hello",
      "run:",
      "  steps:",
      "  - ./automated/smoke/smoke.sh",
      "",
    ].join("\n"),
  );
  writeFileSync(
    path.join(work, "automated/smoke/smoke.sh"),
    '#!/bin/sh\nlava-test-case script-ran --shell true\nlava-test-case greeting --shell test "$GREETING" = from-job\nlava-test-case version-file --shell test "$(cat VERSION)" = "$EXPECTED"\n',
  );
  chmodSync(path.join(work, "automated/smoke/smoke.sh"), 0o755);
  writeFileSync(path.join(work, "VERSION"), "one\n");
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "one");
  first = git(work, "rev-parse", "HEAD");
  writeFileSync(path.join(work, "VERSION"), "two\n");
  git(work, "commit", "-q", "-am", "two");
  head = git(work, "rev-parse", "HEAD");
  const served = path.join(base, "served");
  mkdirSync(served);
  git(base, "clone", "-q", "--bare", work, path.join(served, "tests.git"));
  const port = await freePort();
  daemon = spawn(
    "git",
    ["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", `--port=${port}`, `--base-path=${served}`, served],
    { stdio: "ignore" },
  );
  gitUrl = `git://127.0.0.1:${port}/tests.git`;
  // the daemon answers once it listens
  for (let i = 0; i < 200; i++) {
    try {
      execFileSync("git", ["ls-remote", gitUrl], { stdio: "ignore" });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 120_000);

afterAll(async () => {
  daemon?.kill();
  await images?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

const job = (definition: string) => testDefinitionJob(images.url, "git test definition", definition);

describe("from: git test definitions", () => {
  it("clones the repository, runs its definition with its scripts and the job's parameters, and reports commit_id as LAVA", async () => {
    const log: TLogRecord[] = [];
    const def = [
      `    - {from: git, repository: "${gitUrl}", path: automated/smoke/smoke.yaml, name: smoke,`,
      "       parameters: {GREETING: from-job, EXPECTED: two}}",
    ].join("\n");
    const outcome = await runJob({
      jobId: 301,
      bundle: { definition: job(def), device: DEVICE },
      workerDir,
      workerName: "git-worker",
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
    expect(r.find((x) => x.definition === "0_smoke" && x.case === "script-ran")?.result).toBe("pass");
    expect(r.find((x) => x.definition === "0_smoke" && x.case === "greeting")?.result).toBe("pass");
    expect(r.find((x) => x.definition === "0_smoke" && x.case === "version-file")?.result).toBe("pass");
    expect(r.find((x) => x.definition === "lava" && x.case === "0_smoke")).toMatchObject({
      result: "pass",
      commit_id: head,
      repository: gitUrl,
      path: "automated/smoke/smoke.yaml",
      revision: "unspecified",
    });
    // cloned shallow, inside the job's directory
    const clone = log.find((x) => x.lvl === "debug" && String(x.msg).startsWith("Running 'git clone"))?.msg;
    expect(clone).toBe(`Running 'git clone --quiet --depth=1 -- ${gitUrl} ${path.join(workerDir, "jobs", "301", "git", "0", "0_smoke")}'`);
  }, 240_000);

  it("checks out a revision (a full clone) and reports it", async () => {
    const log: TLogRecord[] = [];
    const def = `    - {from: git, repository: "${gitUrl}", path: automated/smoke/smoke.yaml, name: smoke, revision: "${first}", parameters: {GREETING: from-job, EXPECTED: one}}`;
    const outcome = await runJob({
      jobId: 302,
      bundle: { definition: job(def), device: DEVICE },
      workerDir,
      workerName: "git-worker",
      sink: (r) => log.push(r),
    });
    expect(outcome).toMatchObject({ result: "pass", error_type: "" });
    const r = resultsOf(log);
    expect(r.find((x) => x.definition === "0_smoke" && x.case === "version-file")?.result).toBe("pass");
    expect(r.find((x) => x.definition === "lava" && x.case === "0_smoke")).toMatchObject({ commit_id: first, revision: first });
  }, 240_000);

  it("an unreachable repository is an Infrastructure error; a missing path or revision is the job's", async () => {
    const run = async (id: number, def: string) =>
      runJob({ jobId: id, bundle: { definition: job(def), device: DEVICE }, workerDir, workerName: "git-worker", sink: () => {} });
    const closed = `git://127.0.0.1:${await freePort()}/nothing.git`;
    const unreachable = await run(303, `    - {from: git, repository: "${closed}", path: a.yaml, name: x}`);
    expect(unreachable).toMatchObject({ result: "fail", error_type: "Infrastructure" });
    expect(unreachable.errors).toContain(`unable to fetch git repository '${closed}'`);
    const noPath = await run(304, `    - {from: git, repository: "${gitUrl}", path: automated/missing.yaml, name: x}`);
    expect(noPath).toMatchObject({ result: "fail", error_type: "Job" });
    expect(noPath.errors).toContain("'automated/missing.yaml' does not exist in");
    const noRev = await run(
      305,
      `    - {from: git, repository: "${gitUrl}", path: automated/smoke/smoke.yaml, name: x, revision: deadbeefdeadbeef}`,
    );
    expect(noRev).toMatchObject({ result: "fail", error_type: "Job" });
    expect(noRev.errors).toContain("revision 'deadbeefdeadbeef' not found");
  }, 240_000);
});
