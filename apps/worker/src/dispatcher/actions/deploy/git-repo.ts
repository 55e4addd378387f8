import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { TGitTestDefinitionRef } from "@magma/protocol";
import { InfrastructureError, JobError } from "../../../errors.ts";
import { confinedPath } from "../../confine.ts";
import type { JobLog } from "../../job-log.ts";
import type { OverlayDefinition } from "../../overlay.ts";
import { collectFiles, readTestDefinition } from "./testdef-files.ts";

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

/**
 * Fetches one `from: git` test definition, as LAVA's GitRepoAction: `git clone [--depth=1] [--branch B]
 * -- URL DIR` (shallow unless `revision` is set or `shallow: false`; a full clone when the server is
 * dumb HTTP, which cannot serve a shallow one), `git checkout REVISION` when set,
 * then reads the test definition at `path` in the clone; `.git` stays in the test's directory unless
 * `history: false` (as LAVA).
 * @param dir where to clone (inside the job directory; created, and replaced when it exists)
 * @returns the parsed test definition, the clone's files (no symlinks) and the commit id
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
    try {
      await git(args, run);
    } catch (e) {
      // a dumb-HTTP server (static files after `git update-server-info`) cannot serve a shallow clone
      if (!shallow || o.signal.aborted || !/does not support shallow/i.test((e as Error).message)) throw e;
      const full = args.filter((a) => a !== "--depth=1");
      o.log.info(`${ref.repository} cannot be cloned shallow (dumb HTTP): cloning in full`);
      o.log.debug(`Running 'git ${full.join(" ")}'`);
      await rm(dir, { recursive: true, force: true });
      await git(full, run);
    }
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
  const testdef = await readTestDefinition(dir, ref.path, what, `${ref.repository} at ${commitId}`, o.log);
  // LAVA keeps the clone's history unless `history: false` (GitHelper.clone removes .git then)
  const keepGit = ref.history !== false;
  if (!keepGit) o.log.debug(`history: false: removing ${path.join(dir, ".git")}`);
  return { testdef, files: await collectFiles(dir, what, keepGit), commitId };
}
