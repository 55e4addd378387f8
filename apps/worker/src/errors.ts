import type { TErrorType } from "@magma/protocol";

/**
 * Dispatcher error classes, classified by whose fault a failure is, as LAVA's
 * `lava_common/exceptions.py`. `errorType` is the `error_type` reported to the instance; it decides
 * the job health (Incomplete + error_type) and whether a {@link RetryAction} may retry (never a bug
 * or a cancel).
 */
export abstract class LavaError extends Error {
  abstract readonly errorType: TErrorType;
  abstract readonly errorHelp: string;
  /** Whether a RetryAction may run the failed sub-pipeline again. */
  readonly retriable: boolean = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The lab's fault: network, QEMU, serial console, disk (LAVA InfrastructureError). */
export class InfrastructureError extends LavaError {
  readonly errorType = "Infrastructure" as const;
  readonly errorHelp = "InfrastructureError: The Infrastructure is not working correctly. Please report this error to LAVA admins.";
}

/** The job definition's fault: bad URL, checksum mismatch, wrong prompt (LAVA JobError). */
export class JobError extends LavaError {
  readonly errorType = "Job" as const;
  readonly errorHelp = "JobError: Your job cannot terminate cleanly.";
}

/** The test's fault: `lava-test-raise` or a test shell that never completes (LAVA TestError). */
export class TestError extends LavaError {
  readonly errorType = "Test" as const;
  readonly errorHelp = "TestError: A test failed to run, look at the error message.";
}

/** The device configuration's fault: device dictionary or dispatcher settings (LAVA ConfigurationError). */
export class ConfigurationError extends LavaError {
  readonly errorType = "Configuration" as const;
  readonly errorHelp = "ConfigurationError: The LAVA instance is not configured correctly. Please report this error to LAVA admins.";
}

/** A bug in Magma: wraps any unexpected exception; never retried (LAVA LAVABug). */
export class MagmaBug extends LavaError {
  readonly errorType = "Bug" as const;
  readonly errorHelp = "LAVABug: This is probably a bug in LAVA, please report it.";
  override readonly retriable = false;
}

/** An action or the job ran past its deadline: "<name> timed out after N seconds" (LAVA LAVATimeoutError). */
export class ActionTimeoutError extends LavaError {
  readonly errorType = "LAVATimeout" as const;
  readonly errorHelp = "LAVATimeoutError: Timeout reached.";
}

/**
 * A MultiNode lava-send/-wait/-wait-all/-sync call got no answer within the group's `timeout`: a
 * peer never arrived (LAVA's MultinodeProtocolTimeoutError, error_type MultinodeTimeout).
 */
export class MultinodeTimeoutError extends LavaError {
  readonly errorType = "MultinodeTimeout" as const;
  readonly errorHelp = "MultinodeProtocolTimeoutError: Multinode wait/sync call has timed out.";
}

/** The job was canceled (instance cancel, LAVA JobCanceled); never retried. */
export class JobCanceled extends LavaError {
  readonly errorType = "Canceled" as const;
  readonly errorHelp = "JobCanceled: The job was canceled";
  override readonly retriable = false;
}

/**
 * Classifies anything thrown into a {@link LavaError}: LavaErrors pass through, anything else
 * becomes a {@link MagmaBug} carrying the original as `cause` (LAVA wraps with LAVABug).
 */
export function toLavaError(e: unknown): LavaError {
  if (e instanceof LavaError) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new MagmaBug(msg, { cause: e });
}
