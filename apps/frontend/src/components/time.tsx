"use client";

/** "2026-11-23 06:56:30 UTC" — fixed format, so the same in every browser and on the server. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** Duration between two ISO times as "1h 02m 03s" / "42s"; "—" when unknown. */
export function formatDuration(from: string | null, to: string | null): string {
  if (!from || !to) return "—";
  let s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h ? `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s` : m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  return <time dateTime={iso ?? undefined}>{formatTime(iso)}</time>;
}
