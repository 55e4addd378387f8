import { createTRPCRouter, publicProcedure } from "../../init.ts";
import { getLabsOverview } from "../../../services/get-labs-overview.ts";
import { getDeviceTypeAvailability } from "../../../services/device-type-availability.ts";
import { getLabHealth } from "../../../services/get-lab-health.ts";

export const labsRouter = createTRPCRouter({
  /** Every lab's reachability, workers, devices and queue, asked in parallel with a short timeout. */
  overview: publicProcedure.query(({ ctx }) => getLabsOverview({ db: ctx.db, timeoutMs: ctx.labTimeoutMs })),
  /** Idle/busy/bad devices and queue depth per device type, summed across labs and per lab. */
  availability: publicProcedure.query(({ ctx }) => getDeviceTypeAvailability({ db: ctx.db, timeoutMs: ctx.labTimeoutMs })),
  /** The lab health board (ZLabHealthBoard): reachability, workers, Bad/Maintenance devices, infrastructure-error rates and history. */
  health: publicProcedure.query(({ ctx }) => getLabHealth({ db: ctx.db, viewer: ctx.viewer, timeoutMs: ctx.labTimeoutMs })),
});
