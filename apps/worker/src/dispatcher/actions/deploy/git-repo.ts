import { execFile } from "node:child_process";
import { lstat, mkdir, readFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { ZInlineTestDefinition, type TGitTestDefinitionRef } from "@magma/protocol";
import { InfrastructureError, JobError } from "../../../errors.ts";
import { confinedPath } from "../../confine.ts";
import type { JobLog } from "../../job-log.ts";
import { suiteName, type OverlayDefinition, type OverlayStage } from "../../overlay.ts";

/** Largest repository a git test definition may bring into the overlay, bytes (files, without `.git`). */
export const MAX_TEST_REPO_BYTES = 64 * 1024 * 1024;
/** Most files a git test definition may bring into the overlay. */
export const MAX_TEST_REPO_FILES = 20_000;

/**
 * The environment git runs with: no terminal prompts, no system or user configuration, and only the
 * transports a job may name (a submodule or redirect cannot switch to `file`, `ext` or `ssh`).
 */
function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ALLOW_PROTOCOL: "http:https:git",
    LC_ALL: "C",
  };
}

/** Runs git (no shell) until `deadlineMs`; @returns stdout. @throws Error with git's stderr */
function git(args: string[], o: { cwd: string; home: string; deadlineMs: number; signal: AbortSignal }): Promise<string> {
  const timeout = Math.max(1000, o.deadlineMs - Date.now());
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { cwd: o.cwd, env: gitEnv(o.home), timeout, signal: o.signal, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as Error & { killed?: boolean; code?: unknown };
          const why = e.killed
            ? `timed out after ${Math.round(timeout / 1000)} s`
            : String(stderr || e.message)
                .trim()
                .split("\n")
                .slice(-3)
                .join(" / ");
          reject(new Error(why));
        } else resolve(stdout);
      },
    );
  });
}

/** Every regular file under `root` (no `.git`), paths relative to it, within the size and count caps. @throws JobError over a cap */
async function collectFiles(root: string, what: string): Promise<{ path: string; mode: number; data: Buffer }[]> {
  const out: { path: string; mode: number; data: Buffer }[] = [];
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      if (rel === "" && e.name === ".git") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) {
        const st = await lstat(path.join(root, r));
        bytes += st.size;
        if (bytes > MAX_TEST_REPO_BYTES || out.length >= MAX_TEST_REPO_FILES) {
          throw new JobError(
            `${what}: the repository is larger than the overlay allows (${MAX_TEST_REPO_BYTES} bytes, ${MAX_TEST_REPO_FILES} files)`,
          );
        }
        out.push({ path: r, mode: st.mode & 0o111 ? 0o755 : 0o644, data: await readFile(path.join(root, r)) });
      }
      // symbolic links are left out: they could point anywhere on the worker host
    }
  };
  await walk("");
  return out;
}

/**
 * Fetches one `from: git` test definition, as LAVA's GitRepoAction: `git clone [--depth=1] [--branch B]
 * -- URL DIR` (shallow unless `revision` is set or `shallow: false`), `git checkout REVISION` when set,
 * then reads the test definition at `path` in the clone.
 * @param dir where to clone (inside the job directory; created, and replaced when it exists)
 * @returns the parsed test definition, the clone's files (no `.git`, no symlinks) and the commit id
 * @throws InfrastructureError when the repository cannot be cloned (unreachable, refused, timed out);
 *   JobError for a revision that does not exist, a missing or invalid test definition at `path`, or
 *   a repository over the overlay's size cap
 */
export async function fetchGitTestDefinition(
  ref: TGitTestDefinitionRef,
  dir: string,
  o: { log: JobLog; deadlineMs: number; signal: AbortSignal },
): Promise<NonNullable<OverlayDefinition["resolved"]>> {
  const what = `test definition ${ref.name}`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  const home = path.dirname(dir);
  const run = { cwd: home, home, deadlineMs: o.deadlineMs, signal: o.signal };
  const shallow = ref.shallow !== false && !ref.revision;
  const args = [
    "clone",
    "--quiet",
    ...(shallow ? ["--depth=1"] : []),
    ...(ref.branch ? ["--branch", ref.branch] : []),
    "--",
    ref.repository,
    dir,
  ];
  o.log.debug(`Running 'git ${args.join(" ")}'`);
  try {
    await git(args, run);
  } catch (e) {
    if (o.signal.aborted) throw o.signal.reason;
    const msg = (e as Error).message;
    // a branch the repository does not have is the job's mistake, anything else the infrastructure's
    if (ref.branch && /Remote branch .* not found/i.test(msg))
      throw new JobError(`${what}: branch '${ref.branch}' not found in ${ref.repository}`);
    throw new InfrastructureError(`${what}: unable to fetch git repository '${ref.repository}': ${msg}`);
  }
  if (ref.revision) {
    try {
      await git(["checkout", "--quiet", ref.revision, "--"], { ...run, cwd: dir });
    } catch (e) {
      if (o.signal.aborted) throw o.signal.reason;
      throw new JobError(`${what}: revision '${ref.revision}' not found in ${ref.repository}: ${(e as Error).message}`);
    }
  }
  const commitId = (await git(["rev-parse", "HEAD"], { ...run, cwd: dir })).trim();
  const file = confinedPath(dir, `${what} path`, ref.path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new JobError(`${what}: '${ref.path}' does not exist in ${ref.repository} at ${commitId}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new JobError(`${what}: '${ref.path}' is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const testdef = ZInlineTestDefinition.safeParse(parsed);
  if (!testdef.success) {
    throw new JobError(
      `${what}: '${ref.path}' is not a Lava-Test Test Definition: ${testdef.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  }
  o.log.debug(`Tests stored (tmp) in ${file}`);
  return { testdef: testdef.data, files: await collectFiles(dir, what), commitId };
}

/**
 * Fetches every `from: git` definition of `stages` not fetched yet, into `<jobDir>/git/<suite>`,
 * and records it on the definition (`resolved`), so the overlay and the test shell's results see it.
 * @throws as {@link fetchGitTestDefinition}
 */
export async function fetchGitTestDefinitions(
  stages: OverlayStage[],
  jobDir: string,
  o: { log: JobLog; deadlineMs: number; signal: AbortSignal },
): Promise<void> {
  for (const s of stages) {
    for (const d of s.definitions) {
      if (d.ref.from !== "git" || d.resolved) continue;
      d.resolved = await fetchGitTestDefinition(d.ref, confinedPath(jobDir, "git clone", "git", `${s.stage}`, suiteName(d)), o);
      o.log.info(`${suiteName(d)}: ${d.ref.repository} at ${d.resolved.commitId} (${d.resolved.files.length} files)`);
    }
  }
}
