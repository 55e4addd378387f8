/**
 * Python's `repr()` of JSON-like values, as LAVA's CSV export writes the `metadata` column
 * (`str(dict)`: `{'case': 'validate', 'measurement': 1.83, 'extra': [{'from': 'inline'}]}`).
 * Dict keys come out sorted because LAVA's metadata went through `yaml.safe_dump` first.
 */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number")
    return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + entries.map(([k, x]) => `${pyStr(k)}: ${pyRepr(x)}`).join(", ") + "}";
  }
  return pyStr(String(v));
}

/** `repr(str)`: single quotes unless the text has a `'` and no `"`; backslash escapes as Python's. */
function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += "\\" + q;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch < " " || ch === "\x7f") out += "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + q;
}
