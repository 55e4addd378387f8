import { z } from "zod";
import { REGRESSION_KINDS, SUSPECTS } from "@magma/protocol";
import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getBuildCompare, getBuildPage, getBuilds, getRegressions, getTestHistory, getTrees, resultsVisibility } from "../../../services/build-results.ts";

const ZName = z.string().min(1).max(500);
const ZBranch = z.object({ tree: ZName, branch: ZName });

/**
 * Builds, regressions and test history for the pages (same services and visibility hook as the
 * /api/v1 JSON routes).
 */
export const buildsRouter = createTRPCRouter({
  /** Trees and branches with their newest build. */
  trees: publicProcedure.query(({ ctx }) => getTrees(ctx.db, resultsVisibility())),
  /** A branch's builds, newest first (keyset cursor from the previous page). */
  list: publicProcedure
    .input(ZBranch.extend({ limit: z.number().int().min(1).max(200).default(30), cursor: z.string().max(4000).nullish() }))
    .query(({ ctx, input }) => getBuilds(ctx.db, { ...input, cursor: input.cursor ?? undefined }, resultsVisibility())),
  /** One build: summary, matrix, failures, jobs, regressions and fixes. */
  build: publicProcedure.input(ZBranch.extend({ commit: ZName })).query(({ ctx, input }) => getBuildPage(ctx.db, input, resultsVisibility())),
  /** A branch's regressions and fixes with optional filters. */
  regressions: publicProcedure
    .input(
      ZBranch.extend({
        commit: ZName.optional(),
        kind: z.enum(REGRESSION_KINDS).optional(),
        suspect: z.enum(SUSPECTS).optional(),
        deviceType: ZName.optional(),
        lab: ZName.optional(),
        test: ZName.optional(),
        limit: z.number().int().min(1).max(1000).default(200),
        cursor: z.string().max(4000).nullish(),
      }),
    )
    .query(({ ctx, input }) => {
      const { deviceType, cursor, ...rest } = input;
      return getRegressions(ctx.db, { ...rest, device_type: deviceType, cursor: cursor ?? undefined }, resultsVisibility());
    }),
  /** One test's history across builds and labs. */
  history: publicProcedure
    .input(ZBranch.extend({ test: ZName, deviceType: ZName.optional(), limit: z.number().int().min(1).max(200).default(50), cursor: z.string().max(4000).nullish() }))
    .query(({ ctx, input }) => {
      const { deviceType, cursor, ...rest } = input;
      return getTestHistory(ctx.db, { ...rest, device_type: deviceType, cursor: cursor ?? undefined }, resultsVisibility());
    }),
  /** Tests whose status differs between two builds of a branch. */
  compare: publicProcedure
    .input(ZBranch.extend({ from: ZName, to: ZName, limit: z.number().int().min(1).max(5000).default(1000) }))
    .query(({ ctx, input }) => getBuildCompare(ctx.db, input, resultsVisibility())),
});
