import { ZBuildCompareInput, ZBuildListInput, ZBuildRefInput, ZRegressionListInput, ZTestHistoryInput } from "@magma/protocol";
import { createTRPCRouter, publicProcedure } from "../../init.ts";
import {
  getBuildCompare,
  getBuildPage,
  getBuilds,
  getRegressions,
  getTestHistory,
  getTrees,
  resultsVisibility,
} from "../../../services/build-results.ts";

/**
 * Builds, regressions and test history for the pages (same services and visibility hook as the
 * /api/v1 JSON routes).
 */
export const buildsRouter = createTRPCRouter({
  /** Trees and branches with their newest build. */
  trees: publicProcedure.query(({ ctx }) => getTrees(ctx.db, resultsVisibility(ctx.viewer))),
  /** A branch's builds, newest first (keyset cursor from the previous page). */
  list: publicProcedure
    .input(ZBuildListInput)
    .query(({ ctx, input }) => getBuilds(ctx.db, { ...input, cursor: input.cursor ?? undefined }, resultsVisibility(ctx.viewer))),
  /** One build: summary, matrix, failures, jobs, regressions and fixes. */
  build: publicProcedure.input(ZBuildRefInput).query(({ ctx, input }) => getBuildPage(ctx.db, input, resultsVisibility(ctx.viewer))),
  /** A branch's regressions and fixes with optional filters. */
  regressions: publicProcedure.input(ZRegressionListInput).query(({ ctx, input }) => {
    const { deviceType, cursor, ...rest } = input;
    return getRegressions(ctx.db, { ...rest, device_type: deviceType, cursor: cursor ?? undefined }, resultsVisibility(ctx.viewer));
  }),
  /** One test's history across builds and labs. */
  history: publicProcedure.input(ZTestHistoryInput).query(({ ctx, input }) => {
    const { deviceType, cursor, ...rest } = input;
    return getTestHistory(ctx.db, { ...rest, device_type: deviceType, cursor: cursor ?? undefined }, resultsVisibility(ctx.viewer));
  }),
  /** Tests whose status differs between two builds of a branch. */
  compare: publicProcedure
    .input(ZBuildCompareInput)
    .query(({ ctx, input }) => getBuildCompare(ctx.db, input, resultsVisibility(ctx.viewer))),
});
