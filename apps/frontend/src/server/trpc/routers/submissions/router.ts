import { z } from "zod";
import { MAX_DEFINITION_BYTES } from "@magma/protocol";
import { authedProcedure, createTRPCRouter } from "../../init.ts";
import { createSubmission } from "../../../services/create-submission.ts";
import { getSubmission } from "../../../services/get-submission.ts";

export const submissionsRouter = createTRPCRouter({
  /** Validates the definition and fans it out to the chosen labs as the logged-in user; idempotent on clientRequestId. */
  create: authedProcedure
    .input(
      z.object({
        clientRequestId: z.string().min(8).max(100),
        definition: z.string().min(1, "definition must not be empty").max(MAX_DEFINITION_BYTES),
        labs: z.array(z.string().min(1).max(100)).min(1, "choose at least one lab").max(50),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      ctx.log.info({ clientRequestId: input.clientRequestId, labs: input.labs }, "submissions.create");
      const { submission, created } = await createSubmission({ db: ctx.db, ...input, viewer: ctx.user, timeoutMs: ctx.labTimeoutMs });
      return { id: submission.id, created };
    }),
  /** Per-lab status of one of the user's submissions (superusers: any). */
  get: authedProcedure.input(z.object({ id: z.uuid() })).query(({ ctx, input }) => getSubmission({ db: ctx.db, submissionId: input.id, viewer: ctx.user })),
});
