/**
 * Serialisation helpers that copy Python's output formats, so LAVA-written receivers parse Magma's
 * payloads and logs unchanged.
 */

/** `str(datetime)` of an aware UTC datetime: `2026-11-23 06:56:30.291000+00:00` (or "None"). */
export function pyDatetime(d: Date | null | undefined): string {
  if (!d) return "None";
  const iso = d.toISOString(); // 2026-11-23T06:56:30.291Z
  const ms = d.getUTCMilliseconds();
  const base = iso.slice(0, 19).replace("T", " ");
  // python omits the fraction when microseconds are 0
  return ms === 0 ? `${base}+00:00` : `${base}.${String(ms).padStart(3, "0")}000+00:00`;
}

/** `json.dumps(value)` with Python's default separators (`", "`, `": "`), keys in insertion order. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "[" + v.map(pyJson).join(", ") + "]";
  if (typeof v === "object") {
    return (
      "{" +
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
        .join(", ") +
      "}"
    );
  }
  if (typeof v === "number" && !Number.isFinite(v)) return "null";
  return JSON.stringify(v);
}

/** One stored log record as a line of LAVA's output.yaml: `- {"dt": "…", "lvl": "…", "msg": …}`. */
export function formatLogLine(r: { dt: string; lvl: string; msg: unknown }): string {
  return `- {"dt": ${JSON.stringify(r.dt)}, "lvl": ${JSON.stringify(r.lvl)}, "msg": ${pyJson(r.msg)}}`;
}
