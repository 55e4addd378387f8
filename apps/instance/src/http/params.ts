import type { z } from "zod";
import { ZPagingQuery } from "@magma/protocol";
import { AppError } from "../app-error.ts";

/** Parses a `<id>` path segment; anything but a positive int is a 404, as Django's URL resolver. */
export function jobIdParam(raw: unknown): number {
  const s = String(raw ?? "");
  const n = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > 2_147_483_647) throw new AppError("NOT_FOUND", `Job '${s}' not found`);
  return n;
}

/** DRF LimitOffset parameters: limit (default 50, ≤ 1000) and offset. @throws AppError INVALID_REQUEST naming the parameter */
export function pagingQuery(q: unknown): { limit: number; offset: number } {
  return parseOr400(ZPagingQuery, q);
}

/** `schema.parse` that throws AppError INVALID_REQUEST naming the field instead of a ZodError. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, what = "request"): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new AppError(
      "INVALID_REQUEST",
      `Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`,
    );
  }
  return r.data;
}

/** The first value of a header that may repeat. */
export function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}
