import { stringify } from "yaml";

/**
 * The normalised text of a job definition, as LAVA stores it (PyYAML `safe_dump` sorts keys): the
 * `yaml` library's `stringify(value, { sortMapEntries: true, lineWidth: 0 })`, character for
 * character, written by a small block-style writer for the shapes a parsed job definition has
 * (plain objects, arrays, single-line strings, booleans, null, integers). Strings the writer cannot
 * prove plain are rendered once by the `yaml` library itself and remembered (prompts such as
 * `"/ #"`), so quoting and escaping stay the library's. Anything else — multi-line strings,
 * non-integer or huge numbers, keys over 1 000 characters, other objects (Date, Map…), cycles or
 * nesting deeper than 100 — gives the whole document to the `yaml` library as before. About 10×
 * faster than the library on a job definition; a property test checks the two never differ.
 */
export function stringifySortedYaml(value: Record<string, unknown>): string {
  try {
    const out: string[] = [];
    writeMap(value, "", out, 0);
    return out.length ? out.join("\n") + "\n" : "{}\n";
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return stringify(value, LIBRARY_OPTIONS);
  }
}

const LIBRARY_OPTIONS = { sortMapEntries: true, lineWidth: 0 } as const;

/** thrown (never escapes) when the document goes to the `yaml` library; made once, no stack per throw */
const FALLBACK = new Error("fallback to the yaml library");
const MAX_DEPTH = 100;
const MAX_KEY_LENGTH = 1000;

/**
 * Strings the `yaml` library writes plain in block context, proven by shape: ASCII words of
 * letters, digits and `_ / . : = + @ ( ) , -` separated by single spaces, starting with a letter,
 * `_` or `/`, with no `: ` and no trailing `:`. Core-schema words (null, true, false…) are checked
 * apart; numbers and dates start with a digit and are left to the library.
 */
const PLAIN_RE = /^[A-Za-z_/][A-Za-z0-9_/.:=+@(),-]*(?: [A-Za-z0-9_/.:=+@(),-]+)*$/;
const COLON_SPACE_RE = /:(?: |$)/;
const CORE_WORD_RE = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

/** the library's rendering of single-line strings it quotes, bounded */
const rendered = new Map<string, string>();
const MAX_RENDERED = 4096;

function scalarString(s: string): string {
  if (PLAIN_RE.test(s) && !COLON_SPACE_RE.test(s) && !CORE_WORD_RE.test(s)) return s;
  if (s.includes("\n") || s.includes("\r") || s.length > MAX_KEY_LENGTH) throw FALLBACK;
  let r = rendered.get(s);
  if (r === undefined) {
    r = stringify(s, LIBRARY_OPTIONS);
    // a single line (and its newline) or the library chose a form spanning lines: give up
    if (r.indexOf("\n") !== r.length - 1) throw FALLBACK;
    r = r.slice(0, -1);
    if (rendered.size >= MAX_RENDERED) rendered.clear();
    rendered.set(s, r);
  }
  return r;
}

/** @returns the inline text of a scalar or empty collection, or undefined for a block collection */
function inline(v: unknown): string | undefined {
  if (typeof v === "string") return scalarString(v);
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
    throw FALLBACK;
  }
  if (Array.isArray(v)) return v.length ? undefined : "[]";
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.keys(v).length ? undefined : "{}";
  }
  throw FALLBACK;
}

function writeMap(m: Record<string, unknown>, indent: string, out: string[], depth: number, firstPrefix?: string): void {
  if (depth > MAX_DEPTH) throw FALLBACK;
  const keys = Object.keys(m);
  if (keys.length === 0) return;
  if (keys.length > 1) keys.sort();
  let first = true;
  for (const k of keys) {
    if (k.length > MAX_KEY_LENGTH || k === "__proto__") throw FALLBACK;
    const head = (first && firstPrefix !== undefined ? firstPrefix : indent) + scalarString(k) + ":";
    first = false;
    const v = m[k];
    const text = inline(v);
    if (text !== undefined) {
      out.push(`${head} ${text}`);
      continue;
    }
    out.push(head);
    if (Array.isArray(v)) writeSeq(v, indent + "  ", out, depth + 1);
    else writeMap(v as Record<string, unknown>, indent + "  ", out, depth + 1);
  }
}

function writeSeq(s: unknown[], indent: string, out: string[], depth: number, firstPrefix?: string): void {
  if (depth > MAX_DEPTH) throw FALLBACK;
  let first = true;
  for (const v of s) {
    const prefix = (first && firstPrefix !== undefined ? firstPrefix : indent) + "- ";
    first = false;
    const text = inline(v);
    if (text !== undefined) out.push(prefix + text);
    else if (Array.isArray(v)) writeSeq(v, indent + "  ", out, depth + 1, prefix);
    else writeMap(v as Record<string, unknown>, indent + "  ", out, depth + 1, prefix);
  }
}
