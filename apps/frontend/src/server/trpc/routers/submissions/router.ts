import { ZSubmissionCreateInput, ZSubmissionRef } from "@magma/protocol";
import { authedProcedure, createTRPCRouter } from "../../init.ts";
import { createSubmission } from "../../../services/create-submission.ts";
import { getSubmission } from "../../../services/get-submission.ts";

export const submissionsRouter = createTRPCRouter({
  /** Validates the definition and fans it out to the chosen labs as the logged-in user; idempotent on clientRequestId. */
  create: authedProcedure.input(ZSubmissionCreateInput).mutation(async ({ ctx, input }) => {
    ctx.log.info({ clientRequestId: input.clientRequestId, labs: input.labs }, "submissions.create");
    const { submission, created } = await createSubmission({ db: ctx.db, ...input, viewer: ctx.user, timeoutMs: ctx.labTimeoutMs });
    return { id: submission.id, created };
  }),
  /** Per-lab status of one of the user's submissions (superusers: any). */
  get: authedProcedure
    .input(ZSubmissionRef)
    .query(({ ctx, input }) => getSubmission({ db: ctx.db, submissionId: input.id, viewer: ctx.user })),
});
