import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getLabsOverview } from "../../../services/get-labs-overview.ts";

export const labsRouter = createTRPCRouter({
  /** Every lab's reachability, workers, devices and queue, asked in parallel with a short timeout. */
  overview: publicProcedure.query(({ ctx }) => getLabsOverview({ db: ctx.db, timeoutMs: ctx.labTimeoutMs })),
});
