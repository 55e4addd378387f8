import { listCasesForExport, readLogLines, type InstanceDb } from "@magma/db/instance";
import { formatLogLine } from "../notify/format.ts";

const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
// eslint-disable-next-line no-control-regex
const text = (s: string) => attr(s).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "");
/** Python `datetime.isoformat()` of an aware UTC datetime: `2026-11-23T06:55:20.574519+00:00`. */
const pyIso = (d: Date) => `${d.toISOString().slice(0, 23)}000+00:00`;

function durationSeconds(meta: unknown): number {
  const d = meta && typeof meta === "object" ? (meta as Record<string, unknown>)["duration"] : undefined;
  const n = typeof d === "number" ? d : typeof d === "string" ? Number(d) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/**
 * LAVA's JUnit export (`jobs/<id>/junit/`, made by junit_xml in LAVA): `<testsuites>` with totals,
 * one `<testsuite>` per result suite stamped with the job's end time, one `<testcase>` per case with
 * `time` = the action's `duration` when non-zero; a failed case carries the log lines between its
 * `log_start_line` and `log_end_line` as `<failure>` text, a skipped one an empty `<skipped>`.
 * @param endTime the job's end_time (now when unfinished)
 */
export async function jobToJunit(db: InstanceDb, jobId: number, endTime: Date | null): Promise<string> {
  const cases = await listCasesForExport(db, { jobId });
  const stamp = pyIso(endTime ?? new Date());
  const suites = new Map<string, typeof cases>();
  for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
  let failures = 0;
  let total = 0;
  let totalTime = 0;
  const body: string[] = [];
  for (const [name, list] of suites) {
    const f = list.filter((c) => c.result === "fail").length;
    const s = list.filter((c) => c.result === "skip").length;
    const t = list.reduce((a, c) => a + durationSeconds(c.metadata), 0);
    failures += f;
    total += list.length;
    totalTime += t;
    body.push(
      `\t<testsuite disabled="0" errors="0" failures="${f}" name="${attr(name)}" skipped="${s}" tests="${list.length}" time="${t}" timestamp="${stamp}">`,
    );
    for (const c of list) {
      const d = durationSeconds(c.metadata);
      const head = `\t\t<testcase name="${attr(c.name)}"${d ? ` time="${d.toFixed(6)}"` : ""} timestamp="${pyIso(c.logged)}" classname="${attr(name)}"`;
      if (c.result === "fail") {
        const lines =
          c.startLogLine !== null && c.endLogLine !== null
            ? await readLogLines(db, jobId, c.startLogLine, Math.max(c.endLogLine, c.startLogLine + 1))
            : [];
        body.push(
          `${head}>`,
          `\t\t\t<failure type="failure" message="failed">${text(lines.map((l) => formatLogLine(l) + "\n").join(""))}</failure>`,
          `\t\t</testcase>`,
        );
      } else if (c.result === "skip") {
        body.push(`${head}>`, `\t\t\t<skipped type="skipped" message="skipped"/>`, `\t\t</testcase>`);
      } else {
        body.push(`${head}/>`);
      }
    }
    body.push("\t</testsuite>");
  }
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<testsuites disabled="0" errors="0" failures="${failures}" tests="${total}" time="${totalTime}">`,
    ...body,
    "</testsuites>",
    "",
  ].join("\n");
}
