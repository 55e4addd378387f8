import type { TSubmission } from "@magma/db/frontend";
import type { TApiSubmission } from "@magma/protocol";

/**
 * A submission in the /api/v1 JSON API: `{id, submitter, created_at, labs, retry, targets: [{lab,
 * status, job_id, error, attempts}]}`; `status` is queued | submitted | failed, `lab`/`job_id` those
 * of the target's latest attempt (`job_id` null before the lab accepted it), `error` the lab's refusal,
 * the last delivery problem or why the target moved; `attempts` every placement of the target, oldest
 * first, as `{lab, job_id, state, health, error_type}` (the job's as last reported by its lab).
 */
export function submissionToJson(s: TSubmission): TApiSubmission {
  return {
    id: s.id,
    submitter: s.submitter,
    job_name: s.jobName,
    device_type: s.deviceType,
    created_at: s.createdAt,
    labs: s.anyLab ? "any" : s.targets.map((t) => t.placements[0]?.lab ?? t.lab),
    retry: { infrastructure: s.retryInfrastructure },
    targets: s.targets.map((t) => ({
      lab: t.lab,
      status: t.status,
      job_id: t.remoteJobId,
      error: t.error,
      attempts: t.placements.map((p) => ({
        lab: p.lab,
        job_id: p.remoteJobId,
        state: p.state,
        health: p.health,
        error_type: p.errorType,
      })),
    })),
  };
}
