import { ZTokenCreateInput, ZTokenRef } from "@magma/protocol";
import { labsViewerMaySubmitTo } from "@magma/db/frontend";
import { authedProcedure, createTRPCRouter, publicProcedure } from "../../init.ts";
import { createToken, listTokens, revokeToken } from "../../../services/accounts.ts";

export const authRouter = createTRPCRouter({
  /** The logged-in user (name, superuser, groups, labs they may submit to), or null when anonymous. */
  me: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.viewer) return null;
    return { ...ctx.viewer, submitLabs: await labsViewerMaySubmitTo(ctx.db, ctx.viewer) };
  }),
  /** The user's personal API tokens (first characters only). */
  tokens: authedProcedure.query(({ ctx }) => listTokens(ctx.db, ctx.user.userId)),
  /** Creates a personal API token; the token is in this answer only (stored as its SHA-256 digest). */
  createToken: authedProcedure
    .input(ZTokenCreateInput)
    .mutation(({ ctx, input }) => createToken(ctx.db, ctx.user.username, input.description)),
  /** Revokes one of the user's tokens. */
  revokeToken: authedProcedure.input(ZTokenRef).mutation(({ ctx, input }) => revokeToken(ctx.db, ctx.user.userId, input.id)),
});
