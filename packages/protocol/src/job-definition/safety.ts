/**
 * Checks on the parts of a job definition that reach the worker host: names that become file
 * paths, the URLs the worker downloads, the QEMU arguments a job may add. LAVA trusts its
 * authenticated submitters with all of this; Magma's labs take jobs from many teams, so each
 * check runs at submission (errors naming the YAML path) and again in the worker before it acts.
 * Pure functions, no I/O.
 */

/**
 * An image key (`kernel`, `initrd`, `rootfs`…): becomes a directory under the job directory and a
 * `{name}` placeholder in `image_arg`. Letters, digits, `_`, `-` and `.`, not starting with `.` or
 * `-`, at most 64 characters — so never `..`, `/`, an absolute path or an option-like word.
 */
export const IMAGE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Why `name` cannot be an image key, or undefined when it can ({@link IMAGE_NAME_RE}). */
export function imageNameProblem(name: string): string | undefined {
  if (IMAGE_NAME_RE.test(name)) return undefined;
  return `image name '${name}' is not allowed: use 1-64 letters, digits, '_', '-' or '.', not starting with '.' or '-' (it becomes a directory on the worker)`;
}

/**
 * A test definition `path:` (`inline/smoke.yaml`): a relative path without `..`, control
 * characters or backslashes. Why not, or undefined when it is fine.
 */
export function testDefinitionPathProblem(p: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\x00-\x1f\x7f\\]/.test(p)) return `path '${p}' must not contain control characters or backslashes`;
  if (p.startsWith("/")) return `path '${p}' must be relative`;
  if (p.split("/").some((seg) => seg === "..")) return `path '${p}' must not contain '..'`;
  return undefined;
}

/** A POSIX shell variable name: what `secrets`, test `parameters` and `params` keys must be. */
export const SHELL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Schemes the worker downloads images from (and follows redirects to). */
export const DOWNLOAD_SCHEMES = ["http:", "https:"] as const;

/** Why `url` cannot be downloaded by the worker (not a URL, not http/https), or undefined. */
export function downloadUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `'${url}' is not a valid URL`;
  }
  if (!(DOWNLOAD_SCHEMES as readonly string[]).includes(parsed.protocol))
    return `URL scheme '${parsed.protocol.replace(/:$/, "")}' is not supported (supported: http, https)`;
  return undefined;
}
