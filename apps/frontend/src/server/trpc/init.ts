import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { randomUUID } from "node:crypto";
import { AppError } from "../app-error.ts";
import { db } from "../db.ts";
import { logger } from "../logger.ts";
import { env } from "../../env.ts";
import type { TViewer } from "@magma/db/frontend";
import { requireSuperuser, requireViewer, resolveViewer } from "../auth/session.ts";

/**
 * Per-request context: the shared DB client, a request-scoped logger, the lab timeout and the
 * viewer (session cookie or `Authorization: Token`, null when anonymous). A bad API token is kept
 * as `authError` and refused by every procedure (401), never treated as anonymous.
 */
export async function createTRPCContext(opts: { headers: Headers }) {
  const requestId = opts.headers.get("x-request-id") ?? randomUUID();
  let viewer: TViewer | null = null;
  let authError: AppError | null = null;
  try {
    viewer = await resolveViewer(db(), opts.headers);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    authError = e;
  }
  return {
    db: db(),
    log: logger().child({ requestId, user: viewer?.username }),
    labTimeoutMs: env().MAGMA_LAB_TIMEOUT_MS,
    viewer,
    authError,
  };
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
      result.error = new TRPCError({
        code: STATUS_TO_TRPC[cause.statusCode] ?? "INTERNAL_SERVER_ERROR",
        message: cause.userMessage,
        cause,
      });
      if (cause.statusCode >= 500) ctx.log.warn({ path, code: cause.code, err: cause.message }, "procedure failed");
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ path, err: result.error.message, stack: (cause as Error | undefined)?.stack }, "procedure crashed");
    }
  }
  return result;
});

export const createTRPCRouter = t.router;
/** Refuses every call made with an invalid API token (401). */
const authCheck = t.middleware(({ ctx, next }) => {
  if (ctx.authError) throw ctx.authError;
  return next();
});

/** Open to anonymous visitors; what they see is narrowed by `ctx.viewer` (job visibility). */
export const publicProcedure = t.procedure.use(appErrors).use(authCheck);
/** Needs a logged-in user (session or API token): `ctx.user` is set. @throws 401 */
export const authedProcedure = publicProcedure.use(({ ctx, next, path }) =>
  next({ ctx: { user: requireViewer(ctx.viewer, `call ${path}`) } }),
);
/** Needs a superuser. @throws 401 / 403 */
export const superuserProcedure = publicProcedure.use(({ ctx, next, path }) =>
  next({ ctx: { user: requireSuperuser(ctx.viewer, `call ${path}`) } }),
);
export const createCallerFactory = t.createCallerFactory;
