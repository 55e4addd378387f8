import type { TFederatedJob, TFederatedJobDetail } from "@magma/db/frontend";
import type { TApiJob, TApiJobDetail } from "@magma/protocol";

/** A federated job in the /api/v1 JSON API's snake_case (LAVA REST field names where they exist). */
export function jobToJson(j: TFederatedJob): TApiJob {
  return {
    lab: j.lab,
    id: j.id,
    description: j.name,
    device_type: j.deviceType,
    submitter: j.submitter,
    state: j.state,
    health: j.health,
    priority: j.priority,
    metadata: j.metadata,
    actual_device: j.actualDevice,
    submit_time: j.submitTime,
    start_time: j.startTime,
    end_time: j.endTime,
    error_type: j.errorType,
    failure_comment: j.failureComment,
    health_check: j.healthCheck,
    updated_at: j.updatedAt,
  };
}

/** A job with definition and suites (cases with LAVA's `unit`/`test_set` names). */
export function jobDetailToJson(j: TFederatedJobDetail): TApiJobDetail {
  return {
    ...jobToJson(j),
    definition: j.definition,
    suites: j.suites.map((s) => ({
      name: s.name,
      counts: s.counts,
      tests: s.cases.map((c) => ({
        id: c.id,
        name: c.name,
        result: c.result,
        measurement: c.measurement,
        unit: c.units,
        test_set: c.testSet,
      })),
    })),
  };
}
