/**
 * Issue 14, real LAVA jobs end to end on the real processes (lab instance + worker + QEMU DUT): one
 * job whose test definitions come from a git repository served over HTTP from a local repository
 * (dumb HTTP: static files after `git update-server-info`), with a `parse: pattern` definition and a
 * `lava-test-case NAME --shell 'CMD | CMD'` pipeline case and an `expected:` list, as real LAVA jobs are written. The results
 * are read back through the lab's REST API, as a LAVA client reads them.
 */
import { execFileSync } from "node:child_process";
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startFaultStack, submit, waitJob, type FaultStack } from "./lib/fault-stack.ts";
import { tempDir } from "./lib/services.ts";

let f: FaultStack;
let web: Server;
let repoUrl = "";
let commit = "";
let base = "";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e.org" },
  }).trim();

/** A static file server for `root` (nested paths, nothing outside it): a dumb-HTTP git server. */
async function serveTree(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const file = path.resolve(root, "." + decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
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
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

beforeAll(async () => {
  // a test-definitions repository as Linaro's: a smoke definition with pipeline cases, a parse one
  base = tempDir("magma-lava-testdefs");
  const work = path.join(base, "work");
  git(base, "init", "-q", "-b", "main", work);
  mkdirSync(path.join(work, "automated/linux/smoke"), { recursive: true });
  mkdirSync(path.join(work, "automated/linux/parsed"), { recursive: true });
  writeFileSync(
    path.join(work, "automated/linux/smoke/smoke.yaml"),
    stringify({
      metadata: { format: "Lava-Test Test Definition 1.0", name: "smoke-tests-basic", description: "smoke tests" },
      run: {
        steps: [
          "lava-test-case pipeline-pass --shell 'echo hello magma | grep -q magma'",
          "lava-test-case pipeline-fail --shell 'echo hello | grep -q absent'",
          "lava-test-case redirect-and --shell 'echo x > /tmp/f && test -s /tmp/f'",
        ],
      },
    }),
  );
  writeFileSync(
    path.join(work, "automated/linux/parsed/parsed.yaml"),
    stringify({
      metadata: { format: "Lava-Test Test Definition 1.0", name: "parsed", description: "tool output parsed by a pattern" },
      run: { steps: ["printf 'alpha: PASS\\nbeta: FAIL\\ngamma: SKIP\\n'"] },
      parse: { pattern: "^(?P<test_case_id>[a-z]+): (?P<result>PASS|FAIL|SKIP)$", fixupdict: { PASS: "pass", FAIL: "fail", SKIP: "skip" } },
    }),
  );
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "test definitions");
  commit = git(work, "rev-parse", "HEAD");
  const served = path.join(base, "served");
  mkdirSync(served);
  git(base, "clone", "-q", "--bare", work, path.join(served, "test-definitions.git"));
  git(path.join(served, "test-definitions.git"), "update-server-info");
  web = await serveTree(served);
  repoUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/test-definitions.git`;
  f = await startFaultStack();
});

afterAll(async () => {
  await f?.stop();
  await new Promise((r) => web?.close(r));
  if (base) rmSync(base, { recursive: true, force: true });
});

/** The lab's test cases of a job (REST `jobs/<id>/tests/`, every page). */
async function cases(lab: string, id: number): Promise<{ suite: string; name: string; result: string; metadata: unknown }[]> {
  const out: { suite: string; name: string; result: string; metadata: unknown }[] = [];
  let url: string | null = `${f.lab(lab).url}/api/v0.2/jobs/${id}/tests/?limit=200`;
  while (url) {
    const r = await fetch(url, { headers: { authorization: `Token ${f.stack.adminToken}` } });
    expect(r.status).toBe(200);
    const page = (await r.json()) as { next: string | null; results: { suite: string; name: string; result: string; metadata: unknown }[] };
    out.push(...page.results);
    url = page.next;
  }
  return out;
}

describe("LAVA test definitions from git on a QEMU DUT", () => {
  it("runs git definitions served over HTTP: pipeline --shell cases, parse: pattern cases, revision and commit_id as LAVA", async () => {
    const definition = stringify({
      device_type: "qemu",
      job_name: "lava test definitions from git",
      timeouts: { job: { minutes: 10 }, action: { minutes: 5 }, connection: { minutes: 2 } },
      priority: "medium",
      visibility: "public",
      actions: [
        {
          deploy: {
            timeout: { minutes: 3 },
            to: "tmpfs",
            images: {
              kernel: { image_arg: '-kernel {kernel} -append "console=ttyS0,115200 quiet"', url: `${f.stack.artifactsUrl}/vmlinuz` },
              initrd: { image_arg: "-initrd {initrd}", url: `${f.stack.artifactsUrl}/initramfs.cpio.gz` },
            },
          },
        },
        { boot: { timeout: { minutes: 3 }, method: "qemu", media: "tmpfs", prompts: ["magma-dut:/# "] } },
        {
          test: {
            timeout: { minutes: 5 },
            definitions: [
              {
                repository: repoUrl,
                from: "git",
                path: "automated/linux/smoke/smoke.yaml",
                name: "smoke-tests",
                // LAVA 2025.12+: a case the definition never reports is reported as fail
                expected: ["pipeline-pass", "pipeline-fail", "redirect-and", "never-reported"],
              },
              { repository: repoUrl, from: "git", path: "automated/linux/parsed/parsed.yaml", name: "parsed", revision: commit },
            ],
          },
        },
      ],
    });
    const id = await submit(f, "lab-a", definition);
    const job = await waitJob(f, "lab-a", id, "finished", (j) => j.state === "Finished", 300_000);
    expect(job, JSON.stringify(job)).toMatchObject({ health: "Complete" });
    const all = await cases("lab-a", id);
    const result = (suite: string, name: string) => all.find((c) => c.suite === suite && c.name === name)?.result;
    // suite names as LAVA's <index>_<name>
    expect([...new Set(all.map((c) => c.suite))].sort()).toEqual(["0_smoke-tests", "1_parsed", "lava"]);
    // lava-test-case NAME --shell 'CMD | CMD' is evaluated (LAVA 2023.01's eval "$*")
    expect(result("0_smoke-tests", "pipeline-pass")).toBe("pass");
    expect(result("0_smoke-tests", "pipeline-fail")).toBe("fail");
    expect(result("0_smoke-tests", "redirect-and")).toBe("pass");
    expect(result("0_smoke-tests", "never-reported")).toBe("fail");
    expect(all.find((c) => c.name === "never-reported")?.metadata).toMatchObject({
      extra: { reason: "missing expected test cases are reported as 'fail' by LAVA." },
    });
    // parse: pattern + fixupdict
    expect(result("1_parsed", "alpha")).toBe("pass");
    expect(result("1_parsed", "beta")).toBe("fail");
    expect(result("1_parsed", "gamma")).toBe("skip");
    // lava.<suite>: repository, path, revision (unspecified unless asked) and the commit cloned
    const meta = (name: string) => all.find((c) => c.suite === "lava" && c.name === name)?.metadata as Record<string, unknown>;
    expect(result("lava", "0_smoke-tests")).toBe("pass");
    expect(meta("0_smoke-tests")).toMatchObject({
      repository: repoUrl,
      path: "automated/linux/smoke/smoke.yaml",
      revision: "unspecified",
      commit_id: commit,
    });
    expect(meta("1_parsed")).toMatchObject({ revision: commit, commit_id: commit });
  });
});
