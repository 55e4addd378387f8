import { z } from "zod";
import { JOB_HEALTHS, JOB_STATES } from "@magma/protocol";
import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getResultsMatrix } from "../../../services/get-results-matrix.ts";

export const resultsRouter = createTRPCRouter({
  /** Results by metadata value × lab × device type (pass/fail/skip counts). */
  matrix: publicProcedure
    .input(
      z.object({
        groupBy: z.string().max(200).optional(),
        lab: z.string().min(1).optional(),
        deviceType: z.string().min(1).optional(),
        state: z.enum(JOB_STATES).optional(),
        health: z.enum(JOB_HEALTHS).optional(),
      }),
    )
    .query(({ ctx, input }) => {
      const { groupBy, ...filter } = input;
      return getResultsMatrix({ db: ctx.db, groupBy, filter });
    }),
});
