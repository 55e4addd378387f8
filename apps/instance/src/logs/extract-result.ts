import { ZResultMessage, type TResultMessage } from "@magma/protocol";

/** A test case read from a `lvl: results` record, ready to store. */
export interface ExtractedResult {
  suite: string;
  name: string;
  result: TResultMessage["result"];
  /** decimal string or null */
  measurement: string | null;
  units: string;
  testSet: string | null;
  startLogLine: number | null;
  endLogLine: number | null;
  metadata: Record<string, unknown>;
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Turns the `msg` of a `lvl: results` log record into a test case, as LAVA's `map_scanned_results`:
 * suite = `definition`, name = `case`, measurement must parse as a decimal, `set` names the test set,
 * `starttc`/`endtc` give the log lines; the whole record is kept as metadata. Pipeline actions of the
 * `lava` suite carry no measurement but a `duration`: LAVA stores that duration as the measurement in
 * seconds (a `lava.test-overlay` of duration "0.00" gets measurement "0.0000000000", unit "seconds"), and so do we.
 * @returns the case, or `{error}` naming the problem (the caller keeps the log line and warns)
 */
export function extractResult(msg: unknown): ExtractedResult | { error: string } {
  const r = ZResultMessage.safeParse(msg);
  if (!r.success) {
    return { error: r.error.issues.map((i) => `${i.path.join(".") || "msg"}: ${i.message}`).join("; ") };
  }
  const m = r.data;
  let measurement: string | null = null;
  let units = m.units ?? "";
  let raw = m.measurement;
  if ((raw === undefined || raw === "") && m.definition === "lava" && m.duration !== undefined && m.duration !== "") {
    raw = m.duration;
    units = "seconds";
  }
  if (raw !== undefined && raw !== "") {
    const s = String(raw).trim();
    if (!DECIMAL.test(s) || !Number.isFinite(Number(s))) return { error: `measurement: '${s}' is not a decimal number` };
    if (Math.abs(Number(s)) >= 1e20) return { error: `measurement: '${s}' is out of range` };
    measurement = s;
  }
  return {
    suite: m.definition,
    name: m.case,
    result: m.result,
    measurement,
    units,
    testSet: m.set ?? null,
    startLogLine: m.starttc ?? null,
    endLogLine: m.endtc ?? null,
    metadata: m as Record<string, unknown>,
  };
}
