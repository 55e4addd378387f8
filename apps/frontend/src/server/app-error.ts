import { ERROR_CODES, httpStatusFor, type TErrorCode } from "@magma/protocol";

/**
 * The frontend's one error type: a catalog code plus a message that names the
 * field and value. Edges (route handlers, tRPC errorFormatter) translate it; services never
 * import TRPCError. `statusCode` overrides the catalog status (e.g. 503 when Redis is down).
 */
export class AppError extends Error {
  readonly code: TErrorCode;
  readonly statusCode: number;
  readonly userMessage: string;

  constructor(code: TErrorCode, opts: { message?: string; userMessage?: string; statusCode?: number; cause?: unknown } = {}) {
    super(opts.message ?? ERROR_CODES[code].message, { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.statusCode = opts.statusCode ?? httpStatusFor(code);
    this.userMessage = opts.userMessage ?? this.message;
  }
}

/** JSON error response `{code, message}` for route handlers. */
export function errorResponse(e: unknown): Response {
  if (e instanceof AppError) return Response.json({ code: e.code, message: e.userMessage }, { status: e.statusCode });
  return Response.json({ code: "INTERNAL", message: "Internal error" }, { status: 500 });
}
