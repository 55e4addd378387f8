import { z } from "zod";
import { ZVisibility } from "../job-definition/job-definition.ts";

/**
 * The notify callback body, LAVA's `TestJob.create_job_data` (lava_scheduler_app/models.py), so
 * receivers written for LAVA (SQUAD, KernelCI-style handlers) work unchanged:
 * ints for status/state/health/priority, times as `str(datetime)` (`2026-11-23 06:56:30.291986+00:00`)
 * or the string "None". `dataset` decides the optional keys: `logs` adds `log` (the job log as
 * LAVA's output.yaml text), `results` adds `results` ({suite: YAML list of test cases with string
 * values}), `all` adds both. As LAVA 2025+: `submitter_email` and `health_check` are sent, and the
 * callback token travels only in its header, never in the body (`token` stays optional on parse for
 * payloads of older labs).
 *
 * Documented differences from LAVA 2023.01 (fixes, not regressions):
 * - `end_time` carries the real end time (LAVA always sends "None" in Finished callbacks).
 * - `metadata` is the job's `metadata:` mapping (LAVA 2023.01 sends `[]`).
 * - `magma` carries what a federating receiver needs without parsing YAML: instance name,
 *   device type, error type, health-check flag and the job's `visibility` (`public` | `personal` |
 *   `{group: [names]}`). The submitter is LAVA's own `submitter_username` (a lab username).
 */
export const ZNotifyPayload = z.looseObject({
  id: z.number().int(),
  status: z.number().int(),
  status_string: z.string(),
  state: z.number().int(),
  state_string: z.string(),
  health: z.number().int(),
  health_string: z.string(),
  submit_time: z.string(),
  start_time: z.string(),
  end_time: z.string(),
  submitter_username: z.string(),
  /** LAVA 2025+: the submitter's email ("" when none); optional on parse for older labs */
  submitter_email: z.string().optional(),
  failure_comment: z.string().nullable(),
  priority: z.number().int(),
  description: z.string(),
  actual_device_id: z.string().nullable(),
  definition: z.string(),
  metadata: z.union([z.record(z.string(), z.string()), z.array(z.unknown())]),
  /** LAVA 2025+: whether the job is a health check; optional on parse for older labs */
  health_check: z.boolean().optional(),
  /** sent by LAVA 2023.01 and Magma before the 2025+ payload; never sent now */
  token: z.string().optional(),
  log: z.string().optional(),
  results: z.record(z.string(), z.string()).optional(),
  magma: z
    .object({
      instance: z.string(),
      device_type: z.string(),
      error_type: z.string().nullable(),
      health_check: z.boolean(),
      /**
       * the job's visibility on its lab, so a federating receiver keeps the lab's promise (optional on
       * parse: labs before it was added omit it; treat a missing one as unknown, not as public)
       */
      visibility: ZVisibility.optional(),
      /**
       * Sizes of the job's results and log (Magma labs, Finished callbacks): `results_inline` false
       * means `results` was left out (more than FEDERATION_INLINE_CASES cases) and the receiver pulls
       * the cases page by page; the log never travels in the federation callback and is pulled by line
       * ranges. Optional: older labs and plain LAVA omit it.
       */
      transfer: z
        .object({
          test_cases: z.number().int().min(0),
          log_lines: z.number().int().min(0),
          results_inline: z.boolean(),
        })
        .optional(),
      /**
       * A live push of a Running job (Magma labs, issue 13): `results` carries only the cases the lab
       * recorded since its previous push, those whose lab case id is in (`after`, `through`], in id
       * order. Pushes of one job never overlap and are at most FEDERATION_INLINE_CASES cases each; the
       * Finished callback still carries (or sizes, in `transfer`) every case, so a receiver that
       * missed a push loses nothing. Absent from every other callback.
       */
      live_results: z
        .object({
          after: z.number().int().min(0),
          through: z.number().int().min(1),
        })
        .optional(),
    })
    .optional(),
});
export type TNotifyPayload = z.infer<typeof ZNotifyPayload>;

/** One test case inside `results.<suite>` YAML, LAVA's export with string values. */
export const ZNotifyTestCase = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String),
  job: z.union([z.string(), z.number()]).transform(String),
  name: z.string(),
  suite: z.string(),
  result: z.string(),
  measurement: z.union([z.string(), z.number(), z.null()]).transform((m) => (m === null || m === "None" ? null : String(m))),
  unit: z.string().nullable().optional(),
  logged: z.string().optional(),
  level: z.union([z.string(), z.null()]).optional(),
  log_start_line: z.union([z.string(), z.number(), z.null()]).optional(),
  log_end_line: z.union([z.string(), z.number(), z.null()]).optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type TNotifyTestCase = z.infer<typeof ZNotifyTestCase>;

/** Header a Magma instance puts its federation token in when calling the frontend. */
export const FEDERATION_TOKEN_HEADER = "x-magma-token";

/**
 * Signed callbacks (GitHub/Stripe-style webhooks). Every callback POST from an instance carries
 * {@link CALLBACK_TIMESTAMP_HEADER} (unix seconds of this attempt) and {@link CALLBACK_DELIVERY_HEADER}
 * (a UUID of the outbox row: the same for every retry of one callback, so a receiver can refuse a
 * replay). When the receiver has a shared secret (the federation callback:
 * MAGMA_FEDERATION_SIGNING_SECRET on the instance), it also carries {@link CALLBACK_SIGNATURE_HEADER}
 * = `sha256=` + lowercase hex HMAC-SHA256(secret, `${timestamp}.${body}`) over the exact body bytes.
 * A receiver refuses a missing or wrong signature, a timestamp more than
 * {@link CALLBACK_SIGNATURE_TOLERANCE_S} from its clock, and a delivery id it has already accepted.
 * Job notify callbacks (the `notify:` block) have no secret and are not signed.
 * Sign/verify functions: `signPayload` / `verifySignature` in `@magma/db/secrets`.
 */
export const CALLBACK_SIGNATURE_HEADER = "x-magma-signature";
export const CALLBACK_TIMESTAMP_HEADER = "x-magma-timestamp";
export const CALLBACK_DELIVERY_HEADER = "x-magma-delivery";
/** Prefix of the signature header's value. */
export const CALLBACK_SIGNATURE_PREFIX = "sha256=";
/** Largest accepted distance between a callback's timestamp and the receiver's clock, seconds. */
export const CALLBACK_SIGNATURE_TOLERANCE_S = 300;
