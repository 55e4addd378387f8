import { parse as shellParse } from "shell-quote";

/** A `{name}` placeholder standing for the local path of the deployed image `name`. */
export const IMAGE_PLACEHOLDER_RE = /^\{([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\}$/;

/**
 * Splits a command-line fragment as a POSIX shell would (shell-quote), never expanding variables
 * (`$HOME` stays `$HOME`).
 * @returns the words, or `{error}` when the text holds shell operators (`;`, `|`, `>`…), globs or comments.
 */
export function splitShellWords(text: string): { words: string[] } | { error: string } {
  let tokens: ReturnType<typeof shellParse>;
  try {
    tokens = shellParse(text, (key) => `$${key}`);
  } catch (e) {
    return { error: `cannot split '${text}' into arguments: ${(e as Error).message}` };
  }
  const words: string[] = [];
  for (const t of tokens) {
    if (typeof t !== "string") return { error: `must be plain arguments, got shell syntax in: ${text}` };
    words.push(t);
  }
  return { words };
}

/**
 * Splits a QEMU option value `a=1,b=2` into pairs; `,,` is a literal comma (QEMU's own escape), so
 * `file={x},,file=/etc/passwd` is one `file` value, not two.
 */
export function splitQemuOptionList(value: string): { key: string; value: string | undefined }[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === ",") {
      if (value[i + 1] === ",") {
        cur += ",";
        i++;
        continue;
      }
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts.map((p) => {
    const eq = p.indexOf("=");
    return eq < 0 ? { key: p, value: undefined } : { key: p.slice(0, eq), value: p.slice(eq + 1) };
  });
}

/** Keys a job's `-drive` may set, with the values each accepts (`file` is a placeholder only). */
const DRIVE_KEYS: Record<string, RegExp> = {
  file: IMAGE_PLACEHOLDER_RE,
  // raw only: with a probed or qcow2 format, the image itself could name a backing file on the host
  format: /^raw$/,
  if: /^(?:virtio|ide|scsi|sd|none)$/,
  media: /^(?:disk|cdrom)$/,
  index: /^\d{1,2}$/,
  id: /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/,
  readonly: /^(?:on|off)$/,
  snapshot: /^(?:on|off)$/,
  cache: /^(?:none|writeback|writethrough|unsafe|directsync)$/,
};

/**
 * QEMU options a job may put in `image_arg`, each with its value check (a problem message, or
 * undefined when the value is fine). Anything else — `-chardev`, `-netdev`, `-device`, `-object`,
 * `-monitor`, `-serial`, `-fw_cfg`, `-plugin`, `-loadvm`, `-machine dumpdtb=`… and any bare word,
 * which QEMU would take as a disk image path — is refused: those open host files, sockets or run
 * host commands. The device dictionary (the lab's admins) still sets any option it needs.
 */
export const QEMU_JOB_OPTIONS: Readonly<Record<string, (value: string) => string | undefined>> = {
  "-kernel": placeholderOnly,
  "-initrd": placeholderOnly,
  "-dtb": placeholderOnly,
  "-bios": placeholderOnly,
  // the guest kernel's command line: any text, it never reaches the host
  "-append": () => undefined,
  "-drive": driveProblem,
  "-cpu": (v) => (/^[A-Za-z0-9_.+=,-]{1,200}$/.test(v) ? undefined : "the value must be a CPU model with optional +/-features"),
  "-smp": (v) => (/^[0-9a-z=,]{1,100}$/.test(v) ? undefined : "the value must be a count or cpus=,cores=,threads=… settings"),
  "-m": (v) => (/^(?:size=)?\d{1,7}[MGmg]?$/.test(v) ? undefined : "the value must be a memory size such as 512 or 1G"),
};

function placeholderOnly(v: string): string | undefined {
  return IMAGE_PLACEHOLDER_RE.test(v) ? undefined : "the value must be an image placeholder such as {kernel}, not a path";
}

function driveProblem(v: string): string | undefined {
  const pairs = splitQemuOptionList(v);
  let hasFile = false;
  let raw = false;
  for (const { key, value } of pairs) {
    const check = DRIVE_KEYS[key];
    if (!check) return `key '${key}' is not allowed (allowed: ${Object.keys(DRIVE_KEYS).join(", ")})`;
    if (value === undefined || !check.test(value))
      return key === "file" ? "file= must be an image placeholder such as {rootfs}, not a path" : `${key}=${value ?? ""} is not allowed`;
    if (key === "file") hasFile = true;
    if (key === "format") raw = true;
  }
  if (!hasFile) return "needs file={<image>}";
  if (!raw) return "needs format=raw (a probed format could make QEMU open other host files)";
  return undefined;
}

/** A QEMU argument list a job supplied, checked: the words, or the first problem. */
export type TQemuArgsCheck = { ok: true; words: string[]; placeholders: string[] } | { ok: false; message: string };

/**
 * Checks a job's `image_arg` against {@link QEMU_JOB_OPTIONS}: tokenised like a shell
 * ({@link splitShellWords}), every word must be an allowed option (`--opt` is QEMU's `-opt`)
 * followed by one value the option accepts.
 * @param what how messages name the text, e.g. `image_arg`
 * @returns `{ok: true, words, placeholders}` (placeholders: image names referred to as `{name}`) or
 *   `{ok: false, message}`, e.g. "QEMU option '-chardev' is not allowed in image_arg (allowed: …)".
 */
export function checkQemuJobArgs(text: string, what = "image_arg"): TQemuArgsCheck {
  const split = splitShellWords(text);
  if ("error" in split) return { ok: false, message: `${what} ${split.error}` };
  const { words } = split;
  const placeholders: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const option = word.startsWith("--") ? word.slice(1) : word;
    if (!option.startsWith("-"))
      return {
        ok: false,
        message: `unexpected argument '${word}' in ${what}: every argument must follow an allowed QEMU option (QEMU takes a bare word as a disk image path)`,
      };
    const check = QEMU_JOB_OPTIONS[option];
    if (!check)
      return {
        ok: false,
        message: `QEMU option '${option}' is not allowed in ${what} (allowed: ${Object.keys(QEMU_JOB_OPTIONS).join(", ")})`,
      };
    const value = words[i + 1];
    if (value === undefined) return { ok: false, message: `QEMU option '${option}' in ${what} needs a value` };
    const problem = check(value);
    if (problem) return { ok: false, message: `QEMU option '${option}' in ${what}: ${problem} (got '${value}')` };
    for (const m of value.matchAll(/\{([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})\}/g)) if (option !== "-append") placeholders.push(m[1]!);
    i++;
  }
  return { ok: true, words, placeholders };
}
