import { JOB_HEALTHS, JOB_STATES, ZJobListCursor, ZJobListQuery, type TJobListQuery } from "@magma/protocol";
import type { TJobCursor } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

export { ZJobListQuery, type TJobListQuery };
/** A job-list query with its defaults applied. */
export type TJobListQueryParsed = ReturnType<typeof ZJobListQuery.parse>;

/** Opaque keyset cursor: base64url of `{t: submit time ISO, i: row id}`. */
export function encodeCursor(c: TJobCursor): string {
  return Buffer.from(JSON.stringify({ t: c.submitTime, i: c.rowId })).toString("base64url");
}

/** @throws AppError INVALID_REQUEST "cursor is not valid" */
export function decodeCursor(s: string): TJobCursor {
  try {
    const o = ZJobListCursor.parse(JSON.parse(Buffer.from(s, "base64url").toString("utf8")));
    return { submitTime: o.t, rowId: o.i };
  } catch {
    throw new AppError("INVALID_REQUEST", {
      message: `cursor "${s.slice(0, 40)}" is not valid: pass next_cursor from the previous page unchanged`,
    });
  }
}

const PARAMS = ["lab", "state", "health", "device_type", "job_name", "limit", "cursor"] as const;

/**
 * Parses `/api/v1/jobs` query parameters: lab, state, health, device_type, job_name,
 * metadata.KEY=VALUE (repeatable over keys), limit (1–200, default 50), cursor.
 * @throws AppError INVALID_REQUEST naming the parameter and the allowed values
 */
export function parseJobListParams(params: URLSearchParams): TJobListQueryParsed {
  const q: Record<string, unknown> = {};
  const metadata: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k.startsWith("metadata.") && k.length > "metadata.".length) {
      metadata[k.slice("metadata.".length)] = v;
      continue;
    }
    if (!(PARAMS as readonly string[]).includes(k)) {
      throw new AppError("INVALID_REQUEST", { message: `unknown parameter "${k}" (allowed: ${PARAMS.join(", ")}, metadata.KEY)` });
    }
    if (v === "") continue;
    if (k === "device_type") q["deviceType"] = v;
    else if (k === "job_name") q["jobName"] = v;
    else if (k === "limit") {
      if (!/^\d+$/.test(v)) throw new AppError("INVALID_REQUEST", { message: `limit "${v}" is not a number between 1 and 200` });
      q["limit"] = Number(v);
    } else q[k] = v;
  }
  if (Object.keys(metadata).length) q["metadata"] = metadata;
  const parsed = ZJobListQuery.safeParse(q);
  if (!parsed.success) {
    const names: Record<string, string> = { deviceType: "device_type", jobName: "job_name" };
    const problems = parsed.error.issues
      .map((i) => {
        const key = String(i.path[0] ?? "");
        return `${names[key] ?? key} "${String(q[key] ?? "")}": ${i.message}`;
      })
      .join("; ");
    throw new AppError("INVALID_REQUEST", { message: `bad query parameter: ${problems}` });
  }
  return parsed.data;
}
