import type { TNotifyTestCase } from "@magma/protocol";

type TCaseFields = Pick<
  TNotifyTestCase,
  "id" | "job" | "name" | "suite" | "result" | "measurement" | "unit" | "log_start_line" | "metadata"
>;

const isText = (v: unknown): v is string => typeof v === "string";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * The fields ingest reads of one LAVA test case, checked by hand for the common case (every field
 * of a plain type ZNotifyTestCase accepts: text or finite numbers, a plain metadata mapping), with
 * the values ZNotifyTestCase's parse gives (ids and measurement as text, `None` measurement as
 * null); about ten times cheaper than the zod parse. Anything else gives `undefined`, and the caller
 * parses with ZNotifyTestCase, which names the field that is wrong.
 */
export function plainNotifyTestCase(item: unknown): TCaseFields | undefined {
  if (!isPlainObject(item)) return undefined;
  const { id, job, name, suite, result, measurement: m, unit, logged, level, log_start_line: ls, log_end_line: le, metadata: md } = item;
  if (!(isText(id) || isFiniteNumber(id)) || !(isText(job) || isFiniteNumber(job))) return undefined;
  if (!isText(name) || !isText(suite) || !isText(result)) return undefined;
  if (!(m === null || isText(m) || isFiniteNumber(m))) return undefined;
  if (!(unit === undefined || unit === null || isText(unit))) return undefined;
  if (!(logged === undefined || isText(logged))) return undefined;
  if (!(level === undefined || level === null || isText(level))) return undefined;
  for (const l of [ls, le]) if (!(l === undefined || l === null || isText(l) || isFiniteNumber(l))) return undefined;
  if (!(md === undefined || md === null || isPlainObject(md))) return undefined;
  return {
    id: String(id),
    job: String(job),
    name,
    suite,
    result,
    measurement: m === null || m === "None" ? null : String(m),
    unit: unit as string | null | undefined,
    log_start_line: ls as string | number | null | undefined,
    metadata: md as Record<string, unknown> | null | undefined,
  };
}
