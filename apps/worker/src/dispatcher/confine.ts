import path from "node:path";
import { JobError } from "../errors.ts";

/** Default cap on one downloaded image, in bytes (as downloaded and once decompressed): 8 GiB. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 8 * 1024 ** 3;

/**
 * Resolves `segments` under `jobDir` and checks the result stays inside it — the worker's second
 * line of defence behind the submission checks (a name that got past them, or a bundle that never
 * went through them, still cannot write elsewhere on the host). LAVA joins such names unchecked.
 * @param what how the error names the offending input, e.g. `image name '../x'`
 * @returns the absolute path
 * @throws JobError "<what> would write outside the job directory" for a traversal or absolute path
 */
export function confinedPath(jobDir: string, what: string, ...segments: string[]): string {
  const root = path.resolve(jobDir);
  const resolved = path.resolve(root, ...segments);
  const rel = path.relative(root, resolved);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel) || segments.some((s) => s.includes("\0"))) {
    throw new JobError(`${what} would write outside the job directory (${resolved}): refused`);
  }
  return resolved;
}
