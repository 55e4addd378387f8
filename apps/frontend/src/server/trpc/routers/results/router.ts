import { z } from "zod";
import { JOB_HEALTHS, JOB_STATES } from "@magma/protocol";
import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getResultsMatrix } from "../../../services/get-results-matrix.ts";
import { getResultsTrend } from "../../../services/get-results-trend.ts";

const ZResultsFilter = z.object({
  lab: z.string().min(1).max(100).optional(),
  deviceType: z.string().min(1).max(200).optional(),
  state: z.enum(JOB_STATES).optional(),
  health: z.enum(JOB_HEALTHS).optional(),
});

export const resultsRouter = createTRPCRouter({
  /** Results by metadata value × lab × device type (pass/fail/skip counts). */
  matrix: publicProcedure.input(ZResultsFilter.extend({ groupBy: z.string().max(200).optional() })).query(({ ctx, input }) => {
    const { groupBy, ...filter } = input;
    return getResultsMatrix({ db: ctx.db, groupBy, filter, viewer: ctx.viewer });
  }),
  /** Pass/fail/skip per lab per UTC day or hour, or per value of a metadata key (newest values). */
  trend: publicProcedure
    .input(
      ZResultsFilter.extend({
        by: z.enum(["day", "hour", "group"]).default("day"),
        groupBy: z.string().max(200).default(""),
        days: z.number().int().min(1).max(365).default(30),
        limit: z.number().int().min(1).max(100).default(20),
      }),
    )
    .query(({ ctx, input }) => {
      const { by, groupBy, days, limit, ...filter } = input;
      return getResultsTrend({ db: ctx.db, by, groupKey: groupBy, days, limit, filter, viewer: ctx.viewer });
    }),
});
