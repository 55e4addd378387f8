import { redactDefinition, type TJobDetail, type TJobSummary } from "@magma/protocol";
import type { TestJob, User } from "@magma/db/instance";

export type JobWithNames = TestJob & {
  submitter: Pick<User, "username">;
  requestedDeviceType: { name: string };
  actualDevice: { hostname: string } | null;
};

/** Prisma include that gives {@link JobWithNames}. */
export const JOB_NAMES_INCLUDE = {
  submitter: { select: { username: true } },
  requestedDeviceType: { select: { name: true } },
  actualDevice: { select: { hostname: true } },
} as const;

/** REST job item, LAVA's field names (protocol ZJobSummary). */
export function toJobSummary(j: JobWithNames): TJobSummary {
  return {
    id: j.id,
    submitter: j.submitter.username,
    description: j.description,
    health_check: j.healthCheck,
    requested_device_type: j.requestedDeviceType.name,
    tags: j.tags,
    actual_device: j.actualDevice?.hostname ?? null,
    submit_time: j.submitTime.toISOString(),
    start_time: j.startTime?.toISOString() ?? null,
    end_time: j.endTime?.toISOString() ?? null,
    state: j.state,
    health: j.health,
    priority: j.priority,
    visibility: j.visibility,
    metadata: (j.metadata ?? {}) as Record<string, string>,
    failure_comment: j.failureComment,
    error_type: j.errorType,
  };
}

/**
 * REST job detail: the summary plus both definitions (protocol ZJobDetail), secrets replaced by
 * `[MASKED]` (`redactDefinition`: secrets, image headers, auto_login passwords, notify tokens).
 */
export function toJobDetail(j: JobWithNames): TJobDetail {
  return { ...toJobSummary(j), definition: redactDefinition(j.definition), original_definition: redactDefinition(j.originalDefinition) };
}

