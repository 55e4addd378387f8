import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { randomUUID } from "node:crypto";
import { AppError } from "../app-error.ts";
import { db } from "../db.ts";
import { logger } from "../logger.ts";
import { env } from "../../env.ts";

/** Per-request context: the shared DB client, a request-scoped logger and the lab timeout. */
export async function createTRPCContext(opts: { headers: Headers }) {
  const requestId = opts.headers.get("x-request-id") ?? randomUUID();
  return { db: db(), log: logger().child({ requestId }), labTimeoutMs: env().MAGMA_LAB_TIMEOUT_MS };
}
export type TRPCContext = Awaited<ReturnType<typeof createTRPCContext>>;

const STATUS_TO_TRPC: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
};

const t = initTRPC.context<TRPCContext>().create({
  /** The one place AppError codes become tRPC errors: the client sees `data.appCode`. */
  errorFormatter({ shape, error }) {
    const app = error.cause instanceof AppError ? error.cause : null;
    return {
      ...shape,
      message: app ? app.userMessage : error.code === "INTERNAL_SERVER_ERROR" ? "Internal error" : shape.message,
      data: { ...shape.data, appCode: app?.code ?? null, stack: undefined },
    };
  },
});

/** Converts AppError thrown by services into TRPCError with the matching code; logs the rest. */
const appErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      result.error = new TRPCError({ code: STATUS_TO_TRPC[cause.statusCode] ?? "INTERNAL_SERVER_ERROR", message: cause.userMessage, cause });
      if (cause.statusCode >= 500) ctx.log.warn({ path, code: cause.code, err: cause.message }, "procedure failed");
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ path, err: result.error.message, stack: (cause as Error | undefined)?.stack }, "procedure crashed");
    }
  }
  return result;
});

export const createTRPCRouter = t.router;
export const publicProcedure = t.procedure.use(appErrors);
export const createCallerFactory = t.createCallerFactory;
