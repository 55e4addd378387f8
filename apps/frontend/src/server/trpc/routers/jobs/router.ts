import { ZJobListQuery, ZJobLogInput, ZJobRef } from "@magma/protocol";
import { authedProcedure, createTRPCRouter, publicProcedure } from "../../init.ts";
import { cancelFederatedJob } from "../../../services/cancel-federated-job.ts";
import { listJobs } from "../../../services/list-jobs.ts";
import { getJob } from "../../../services/get-job.ts";
import { getJobLog } from "../../../services/get-job-log.ts";
import { countJobsByState } from "../../../services/count-jobs-by-state.ts";

export const jobsRouter = createTRPCRouter({
  /** Federated jobs, newest first, filtered; keyset pagination by opaque cursor. */
  list: publicProcedure.input(ZJobListQuery).query(({ ctx, input }) => listJobs({ db: ctx.db, query: input, viewer: ctx.viewer })),
  /** Job counts by state and health for the same filters (the list's summary). */
  counts: publicProcedure
    .input(ZJobListQuery.omit({ limit: true, cursor: true }))
    .query(({ ctx, input }) => countJobsByState({ db: ctx.db, filter: input, viewer: ctx.viewer })),
  /** One job with its suites and test cases. */
  get: publicProcedure
    .input(ZJobRef)
    .query(({ ctx, input }) => getJob({ db: ctx.db, lab: input.lab, jobId: input.id, viewer: ctx.viewer })),
  /**
   * Cancels the job (its submitter or a superuser): a reachable lab is told at once, an outbound lab
   * on its next poll. @throws 401 / 403 / 404 / 502 (see cancelFederatedJob)
   */
  cancel: authedProcedure
    .input(ZJobRef)
    .mutation(({ ctx, input }) =>
      cancelFederatedJob({ db: ctx.db, lab: input.lab, jobId: input.id, viewer: ctx.user, timeoutMs: ctx.labTimeoutMs, log: ctx.log }),
    ),
  /** The job's log from line `start`, read from its lab (an outbound lab's: the lines its link pushed). */
  log: publicProcedure.input(ZJobLogInput).query(({ ctx, input }) =>
    getJobLog({
      db: ctx.db,
      lab: input.lab,
      jobId: input.id,
      start: input.start,
      timeoutMs: Math.max(ctx.labTimeoutMs, 10_000),
      viewer: ctx.viewer,
    }),
  ),
});
