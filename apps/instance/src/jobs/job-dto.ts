import { redactDefinition, type TJobDetail, type TJobSummary } from "@magma/protocol";
import type { TJobRecord, TJobWithDefinition } from "@magma/db/instance";

/** REST job item, LAVA's field names (protocol ZJobSummary), from a repository record. */
export function toJobSummary(j: TJobRecord): TJobSummary {
  return {
    id: j.id,
    submitter: j.submitter,
    description: j.description,
    health_check: j.healthCheck,
    requested_device_type: j.requestedDeviceType,
    tags: j.tags,
    actual_device: j.actualDevice,
    submit_time: j.submitTime.toISOString(),
    start_time: j.startTime?.toISOString() ?? null,
    end_time: j.endTime?.toISOString() ?? null,
    state: j.state,
    health: j.health,
    priority: j.priority,
    visibility: j.visibility,
    metadata: j.metadata,
    failure_comment: j.failureComment,
    error_type: j.errorType,
  };
}

/**
 * REST job detail: the summary plus both definitions (protocol ZJobDetail), secrets replaced by
 * `[MASKED]` (`redactDefinition`: secrets, image headers, auto_login passwords, notify tokens).
 */
export function toJobDetail(j: TJobWithDefinition): TJobDetail {
  return { ...toJobSummary(j), definition: redactDefinition(j.definition), original_definition: redactDefinition(j.originalDefinition) };
}
