import { JOB_HEALTHS, JOB_STATES } from "@magma/protocol";

/** Job list filters as they appear in the page URL (same names as /api/v1/jobs). */
export interface TJobFilters {
  lab?: string;
  state?: (typeof JOB_STATES)[number];
  health?: (typeof JOB_HEALTHS)[number];
  deviceType?: string;
  jobName?: string;
  metadata?: Record<string, string>;
  cursor?: string;
}

/** Reads filters from URL search params; unknown state/health values are ignored. */
export function filtersFromParams(p: URLSearchParams): TJobFilters {
  const f: TJobFilters = {};
  const metadata: Record<string, string> = {};
  for (const [k, v] of p) {
    if (!v) continue;
    if (k === "lab") f.lab = v;
    else if (k === "state" && (JOB_STATES as readonly string[]).includes(v)) f.state = v as TJobFilters["state"];
    else if (k === "health" && (JOB_HEALTHS as readonly string[]).includes(v)) f.health = v as TJobFilters["health"];
    else if (k === "device_type") f.deviceType = v;
    else if (k === "job_name") f.jobName = v;
    else if (k === "cursor") f.cursor = v;
    else if (k.startsWith("metadata.") && k.length > 9) metadata[k.slice(9)] = v;
  }
  if (Object.keys(metadata).length) f.metadata = metadata;
  return f;
}

/** Writes filters back to a query string (empty values dropped). */
export function filtersToQuery(f: TJobFilters): string {
  const p = new URLSearchParams();
  if (f.lab) p.set("lab", f.lab);
  if (f.state) p.set("state", f.state);
  if (f.health) p.set("health", f.health);
  if (f.deviceType) p.set("device_type", f.deviceType);
  if (f.jobName) p.set("job_name", f.jobName);
  for (const [k, v] of Object.entries(f.metadata ?? {})) p.set(`metadata.${k}`, v);
  if (f.cursor) p.set("cursor", f.cursor);
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** "kernel.tree=mainline, kernel.branch=master" ⇄ {key: value}. */
export function parseMetadataText(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}
export const metadataText = (m: Record<string, string> | undefined) =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
