import { z } from "zod";

/**
 * Magma's error-code catalog, shared by every app.
 *
 * Each code maps to an HTTP status and a default message. Apps throw their own
 * `AppError(code, …)`; edges (HTTP routes, tRPC errorFormatter) translate codes to
 * statuses with {@link httpStatusFor}. A retired code is never reused.
 */
export const ERROR_CODES = {
  INVALID_JOB_DEFINITION: { status: 400, message: "Job invalid" },
  INVALID_REQUEST: { status: 400, message: "Invalid request" },
  UNAUTHENTICATED: { status: 401, message: "Authentication required" },
  FORBIDDEN: { status: 403, message: "Permission denied" },
  NOT_FOUND: { status: 404, message: "Not found" },
  CONFLICT: { status: 409, message: "Conflict" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "Payload too large" },
  UPSTREAM_UNAVAILABLE: { status: 502, message: "Upstream unavailable" },
  INTERNAL: { status: 500, message: "Internal error" },
} as const;

/** One of the codes in {@link ERROR_CODES}. */
export type TErrorCode = keyof typeof ERROR_CODES;

/** HTTP status for an error code; 500 for anything unknown. */
export function httpStatusFor(code: string): number {
  return (ERROR_CODES as Record<string, { status: number }>)[code]?.status ?? 500;
}

/** JSON body every Magma HTTP API returns on error: `{ code, message }` (+ LAVA's `message` key name). */
export const ZErrorBody = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [TErrorCode, ...TErrorCode[]]),
  message: z.string(),
});
export type TErrorBody = z.infer<typeof ZErrorBody>;
