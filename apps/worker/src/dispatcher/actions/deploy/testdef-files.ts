import { lstat, readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { ZInlineTestDefinition, type TInlineTestDefinition } from "@magma/protocol";
import { JobError } from "../../../errors.ts";
import { confinedPath } from "../../confine.ts";
import type { JobLog } from "../../job-log.ts";

/** Largest repository a git or url test definition may bring into the overlay, bytes (files, without `.git`). */
export const MAX_TEST_REPO_BYTES = 64 * 1024 * 1024;
/** Most files a git or url test definition may bring into the overlay. */
export const MAX_TEST_REPO_FILES = 20_000;

/**
 * Every regular file under `root`, paths relative to it, within {@link MAX_TEST_REPO_BYTES} and
 * {@link MAX_TEST_REPO_FILES}; the top-level `.git` only when `keepGit` (LAVA's `history: true`).
 * Symbolic links are left out. @throws JobError over a cap
 */
export async function collectFiles(root: string, what: string, keepGit = false): Promise<{ path: string; mode: number; data: Buffer }[]> {
  const out: { path: string; mode: number; data: Buffer }[] = [];
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      if (rel === "" && e.name === ".git" && !keepGit) continue;
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
 * Reads and checks the Lava-Test Test Definition at `rel` inside `dir` (a clone or an unpacked tarball).
 * @param where how errors name the source, e.g. `<repository> at <commit>`
 * @throws JobError when the file is missing, outside `dir`, not YAML or not a test definition
 */
export async function readTestDefinition(
  dir: string,
  rel: string,
  what: string,
  where: string,
  log: JobLog,
): Promise<TInlineTestDefinition> {
  const file = confinedPath(dir, `${what} path`, rel);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new JobError(`${what}: '${rel}' does not exist in ${where}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new JobError(`${what}: '${rel}' is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const testdef = ZInlineTestDefinition.safeParse(parsed);
  if (!testdef.success) {
    throw new JobError(
      `${what}: '${rel}' is not a Lava-Test Test Definition: ${testdef.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  }
  log.debug(`Tests stored (tmp) in ${file}`);
  return testdef.data;
}
