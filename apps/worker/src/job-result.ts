import type { TErrorType, TResultMessage } from "@magma/protocol";

/** What a job run reports as FINISHED (protocol ZJobStateUpdate without `state`). */
export interface JobOutcome {
  result: "pass" | "fail";
  error_type: TErrorType | "";
  errors: string;
  /** The pipeline description (YAML), LAVA's description.yaml. */
  description: string;
}

/** Why a job failed: LAVA's `error_type` and the message (a LavaError fits). */
export interface JobFailure {
  errorType: TErrorType;
  message: string;
}

/**
 * The end of a job, built in one place for the job runner and the daemon (a job that could not
 * start): the `lava.job` results record that closes its log (LAVA's `definition: lava, case: job`,
 * with `error_type` and `error_msg` when it failed) and the FINISHED outcome reported to the
 * instance, so the two always agree.
 * @param failure undefined when the job passed
 * @param description the pipeline description (YAML), "" when no pipeline was built
 */
export function jobResult(failure: JobFailure | undefined, description: string): { record: TResultMessage; outcome: JobOutcome } {
  if (!failure) {
    return {
      record: { definition: "lava", case: "job", result: "pass" },
      outcome: { result: "pass", error_type: "", errors: "", description },
    };
  }
  return {
    record: { definition: "lava", case: "job", result: "fail", error_type: failure.errorType, error_msg: failure.message },
    outcome: { result: "fail", error_type: failure.errorType, errors: failure.message, description },
  };
}
