import type { TSubmission } from "@magma/db/frontend";
import type { TApiSubmission } from "@magma/protocol";

/**
 * A submission in the /api/v1 JSON API: `{id, submitter, created_at, targets: [{lab, status,
 * job_id, error}]}`; `status` is queued | submitted | failed, `job_id` the lab's job id once
 * submitted (null before), `error` the lab's refusal or the last delivery problem.
 */
export function submissionToJson(s: TSubmission): TApiSubmission {
  return {
    id: s.id,
    submitter: s.submitter,
    job_name: s.jobName,
    device_type: s.deviceType,
    created_at: s.createdAt,
    targets: s.targets.map((t) => ({ lab: t.lab, status: t.status, job_id: t.remoteJobId, error: t.error })),
  };
}
