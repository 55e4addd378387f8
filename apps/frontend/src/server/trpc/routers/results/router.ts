import { ZResultsMatrixInput, ZResultsTrendInput } from "@magma/protocol";
import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getResultsMatrix } from "../../../services/get-results-matrix.ts";
import { getResultsTrend } from "../../../services/get-results-trend.ts";

export const resultsRouter = createTRPCRouter({
  /** Results by metadata value × lab × device type (pass/fail/skip counts). */
  matrix: publicProcedure.input(ZResultsMatrixInput).query(({ ctx, input }) => {
    const { groupBy, ...filter } = input;
    return getResultsMatrix({ db: ctx.db, groupBy, filter, viewer: ctx.viewer });
  }),
  /** Pass/fail/skip per lab per UTC day or hour, or per value of a metadata key (newest values). */
  trend: publicProcedure.input(ZResultsTrendInput).query(({ ctx, input }) => {
    const { by, groupBy, days, limit, ...filter } = input;
    return getResultsTrend({ db: ctx.db, by, groupKey: groupBy, days, limit, filter, viewer: ctx.viewer });
  }),
});
