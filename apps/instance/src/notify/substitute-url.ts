import { jobHealthInt, jobStateInt, legacyStatus, type TJobHealth, type TJobState } from "@magma/protocol";
import { pyDatetime } from "./format.ts";

/** Job fields a callback URL may name. */
export interface UrlJobFields {
  id: number;
  state: TJobState;
  health: TJobHealth;
  priority: number;
  description: string;
  submitTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  healthCheck: boolean;
}

/**
 * Replaces `{ FIELD }` placeholders of a notify callback URL, as LAVA's
 * `NotificationCallback.invoke_callback`: `{ID}`, `{STATE}` and `{HEALTH}` (LAVA's ints),
 * `{STATUS}` (legacy int), `{STATUS_STRING}`, `{PRIORITY}`, `{DESCRIPTION}`, `{SUBMIT_TIME}`,
 * `{START_TIME}`, `{END_TIME}`, `{HEALTH_CHECK}`; values are URL-encoded. Unknown placeholders are
 * left as written.
 * Difference from LAVA: substitution uses the job as it is at each transition (LAVA substitutes once,
 * at the first matching transition, so a Finished callback of `status: all` carried the Running state).
 */
export function substituteUrl(url: string, job: UrlJobFields): string {
  const { status, statusString } = legacyStatus(job.state, job.health);
  const values: Record<string, string> = {
    ID: String(job.id),
    STATE: String(jobStateInt(job.state)),
    HEALTH: String(jobHealthInt(job.health)),
    STATUS: String(status),
    STATUS_STRING: statusString,
    PRIORITY: String(job.priority),
    DESCRIPTION: job.description,
    SUBMIT_TIME: pyDatetime(job.submitTime),
    START_TIME: pyDatetime(job.startTime),
    END_TIME: pyDatetime(job.endTime),
    HEALTH_CHECK: job.healthCheck ? "True" : "False",
  };
  return url.replace(/\{\s*([A-Z_]+)\s*\}/g, (whole, name: string) => (name in values ? encodeURIComponent(values[name]!) : whole));
}
