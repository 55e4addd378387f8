import { redactDefinition } from "@magma/protocol";
import { findSubmission, type FrontendDb, type TSubmission, type TViewer } from "@magma/db/frontend";
import { AppError } from "../app-error.ts";

export interface GetSubmissionOptions {
  db: FrontendDb;
  submissionId: string;
  /** Who asks: the submitter and superusers see a submission, nobody else. */
  viewer: TViewer;
}

/** A submission target plus the frontend page of the lab's job once it was created. */
export type TSubmissionView = Omit<TSubmission, "targets"> & { targets: Array<TSubmission["targets"][number] & { jobUrl: string | null }> };

/**
 * A submission with per-lab status: queued, submitted (lab job id + `/jobs/<lab>/<id>`), failed (error).
 * Its definition is shown with secrets, image headers, passwords and notify tokens as `[MASKED]`
 * (`redactDefinition`); the stored copy the labs receive keeps them.
 * @throws AppError NOT_FOUND (unknown, or another user's: its existence is not revealed)
 */
export async function getSubmission({ db, submissionId, viewer }: GetSubmissionOptions): Promise<TSubmissionView> {
  const s = await findSubmission(db, submissionId);
  if (!s || (!viewer.isSuperuser && s.userId !== viewer.userId))
    throw new AppError("NOT_FOUND", { message: `Submission "${submissionId}" not found` });
  return {
    ...s,
    definition: redactDefinition(s.definition),
    targets: s.targets.map((t) => ({
      ...t,
      jobUrl: t.remoteJobId !== null ? `/jobs/${encodeURIComponent(t.lab)}/${t.remoteJobId}` : null,
    })),
  };
}
