/**
 * A strict, fast reader for the one YAML shape LAVA's results export uses (PyYAML's dump of a list
 * of flat mappings):
 *
 * ```yaml
 * - id: '5000'
 *   name: case-0
 *   measurement: None
 *   unit: ''
 *   metadata: {case: case-0, definition: 0_smoke, result: pass}
 * ```
 *
 * It accepts only lines `- key: value` (a new item) and `  key: value` (the item's next key),
 * where a value is a single-quoted string on one line, a plain word-like scalar (letters, digits,
 * `_ . - /` and inner single spaces; starting with a digit only when no YAML number can be read
 * in it, as `0_smoke`), a plain decimal integer or
 * fraction, a dotted version (`1.4.2`) or LAVA time (`2026-11-23 06:56:30.29+00:00`), or a flow
 * mapping `{key: value, …}` of such scalars (no versions or times there). Anything else — other quoting, comments, anchors,
 * tags, nested blocks, empty values, tabs, CR, document markers, duplicate keys, words that YAML
 * reads as null or booleans — makes it return `undefined`, and the caller parses the text with a
 * full YAML parser. For what it accepts it gives exactly the values of js-yaml's core schema
 * (unit-tested against it), about 10× faster.
 * @returns the list of mappings, or `undefined` when the text is outside the accepted shape
 */
export function readLavaResultsYaml(text: string): Record<string, unknown>[] | undefined {
  // a line terminator inside a line (CR, U+2028/9) or a tab: not the shape
  if (!text.startsWith("- ") || /[\r\t\u2028\u2029]/.test(text)) return undefined;
  const out: Record<string, unknown>[] = [];
  let item: Record<string, unknown> | null = null;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    if (end === pos) {
      if (end >= n - 1) break; // the final newline
      return undefined;
    }
    // "- key: value" starts an item, "  key: value" continues it
    const c0 = text.charCodeAt(pos);
    if (text.charCodeAt(pos + 1) !== 32) return undefined;
    if (c0 === 45) {
      item = {};
      out.push(item);
    } else if (c0 !== 32 || !item) return undefined;
    const kv = keyValue(text.slice(pos + 2, end));
    pos = end + 1;
    if (!kv || Object.hasOwn(item, kv[0])) return undefined;
    const v = value(kv[1], false);
    if (v === NO) return undefined;
    item[kv[0]] = v;
  }
  return out;
}

const NO = Symbol("not accepted");
/** A word key (`__proto__` excluded: the items are plain objects). */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A value's first character: not a space. */
const NOT_SPACE = /^\S/;

/** `key: value` with a word key and a value that does not start with a space → [key, value], else null. */
function keyValue(s: string): [string, string] | null {
  const colon = s.indexOf(": ");
  if (colon < 1) return null;
  const key = s.slice(0, colon);
  const v = s.slice(colon + 2);
  if (!KEY.test(key) || key === "__proto__" || !NOT_SPACE.test(v)) return null;
  return [key, v];
}
/** A plain scalar read as a string by YAML's core schema (checked against RESERVED too). */
const WORD = /^[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*$/;
/** A plain decimal integer (core schema int), without sign or leading zeros. */
const INT = /^(?:0|[1-9][0-9]{0,14})$/;
/** A plain decimal fraction (core schema float). */
const FLOAT = /^(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;
/** Plain scalars starting with a digit that the core schema reads as strings: versions, LAVA times. */
const DIGIT_WORDS =
  /^(?:[0-9]+(?:\.[0-9]+){2,}|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:\+[0-9]{2}:[0-9]{2})?)$/;
/** A plain scalar starting with a digit (a string unless NUMERIC_LIKE). */
const DIGIT_WORD = /^[0-9][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*$/;
/** Covers every int and float form of the core schema that starts with a digit (`1_000`, `0x1F`, `1e5`…). */
const NUMERIC_LIKE = /^(?:0[box])?[0-9a-fA-F_.]*(?:[eE][-+]?[0-9]+)?$/;
/** Words the core schema reads as null or booleans. */
const RESERVED = new Set(["null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"]);

function scalar(s: string, inFlow: boolean): unknown {
  if (s.startsWith("'")) {
    if (s.length < 2 || !s.endsWith("'")) return NO;
    const inner = s.slice(1, -1);
    // every quote inside must be a doubled one
    if (inner.replace(/''/g, "").includes("'")) return NO;
    if (inFlow && /[,{}[\]]/.test(inner)) return NO; // keep the flow split simple
    return inner.replace(/''/g, "'");
  }
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    // starting with a digit: a number, a word YAML cannot read as one, a version or a time
    if (INT.test(s) || FLOAT.test(s)) return Number(s);
    if (DIGIT_WORD.test(s) && !NUMERIC_LIKE.test(s)) return s;
    if (!inFlow && DIGIT_WORDS.test(s)) return s;
    return NO;
  }
  return WORD.test(s) && !RESERVED.has(s) ? s : NO;
}

function value(s: string, inFlow: boolean): unknown {
  if (!s.startsWith("{")) return scalar(s, inFlow);
  if (!s.endsWith("}")) return NO;
  const body = s.slice(1, -1);
  const o: Record<string, unknown> = {};
  if (body === "") return o;
  for (const part of body.split(", ")) {
    const kv = keyValue(part);
    if (!kv || Object.hasOwn(o, kv[0])) return NO;
    const v = scalar(kv[1], true);
    if (v === NO) return NO;
    o[kv[0]] = v;
  }
  return o;
}
