import { z } from "zod";

/**
 * The link of an outbound-only lab (a Magma instance behind NAT/firewall that connects OUT to the
 * frontend; the frontend stores no URL for it and never connects to it). HTTP, lab → frontend only:
 *
 *  1. `POST {frontend}/api/federation/enroll` `{token}` — once: the one-time enrollment token
 *     (`npm run labs -- enroll NAME`) is exchanged for a long-lived lab credential and a signing
 *     secret ({@link ZEnrollResponse}); the frontend stores only their digest / sealed copy.
 *  2. `GET {frontend}/api/federation/labs/<lab>/poll?wait=<s>` with `Authorization: Token <credential>`
 *     — a long poll: answers at once with the lab's pending work, or after `wait` seconds with none.
 *     Pending work is every submission target still queued for the lab; it is sent again on every
 *     poll until acknowledged, so a dropped connection loses nothing (the lab submits with
 *     `Idempotency-Key: <submission>-<lab>`, so work seen twice creates one job).
 *  3. `POST {frontend}/api/federation/labs/<lab>/acks` `{acks}` — the lab's job id per target, or the
 *     reason the lab refused it.
 *  4. Job state changes and results go up through the lab's durable callback outbox to
 *     `POST {frontend}/api/callbacks/<lab>` with the credential as `x-magma-token`, signed with the
 *     signing secret — exactly as an inbound lab's federation callbacks (same delivery ids, same
 *     idempotent ingest).
 */

/** Longest long-poll the frontend holds, seconds. */
export const LAB_LINK_MAX_WAIT_S = 30;
/** A lab not heard from for this long is shown as disconnected, ms (a few missed polls). */
export const LAB_LINK_CONNECTED_WINDOW_MS = 90_000;

export const ZEnrollRequest = z.strictObject({
  token: z.string().min(16, "token: the enrollment token printed by `labs enroll`").max(200),
});
export type TEnrollRequest = z.infer<typeof ZEnrollRequest>;

export const ZEnrollResponse = z.object({
  /** the lab's name on this frontend (callbacks go to /api/callbacks/<lab>) */
  lab: z.string().min(1),
  /** long-lived lab credential (Authorization: Token … on the link, x-magma-token on callbacks) */
  credential: z.string().min(32),
  /** HMAC-SHA256 key the lab signs its federation callbacks with */
  signing_secret: z.string().min(32),
});
export type TEnrollResponse = z.infer<typeof ZEnrollResponse>;

export const ZLabWorkQuery = z.object({ wait: z.coerce.number().int().min(0).max(LAB_LINK_MAX_WAIT_S).default(25) });
export type TLabWorkQuery = z.infer<typeof ZLabWorkQuery>;

/** One submission addressed to the lab. */
export const ZLabWorkSubmission = z.object({
  target_id: z.string().min(1),
  /** `Idempotency-Key` the lab submits with: `<submission id>-<lab>` */
  idempotency_key: z.string().min(1).max(200),
  definition: z.string().min(1),
  /** frontend user the lab records as submitter (null: the lab's federation user) */
  submitter: z.string().nullable(),
});
export type TLabWorkSubmission = z.infer<typeof ZLabWorkSubmission>;

export const ZLabWork = z.object({ submissions: z.array(ZLabWorkSubmission) });
export type TLabWork = z.infer<typeof ZLabWork>;

/** The lab's answer for one target: its job id, or why it refused the job (final). */
export const ZLabAck = z.union([
  z.strictObject({ target_id: z.string().min(1), job_id: z.number().int().positive() }),
  z.strictObject({ target_id: z.string().min(1), error: z.string().min(1).max(4000) }),
]);
export type TLabAck = z.infer<typeof ZLabAck>;

export const ZLabAcksRequest = z.strictObject({ acks: z.array(ZLabAck).min(1).max(100) });
export type TLabAcksRequest = z.infer<typeof ZLabAcksRequest>;

export const ZLabAcksResponse = z.object({ accepted: z.number().int(), unknown: z.array(z.string()) });
export type TLabAcksResponse = z.infer<typeof ZLabAcksResponse>;

/** Admin page: add a lab the frontend reaches by URL (`labs add`). */
export const ZAdminAddLabInput = z.object({
  name: z.string().min(1).max(63),
  kind: z.enum(["magma", "lava"]),
  url: z.string().min(1).max(2000),
  token: z.string().min(1).max(500),
  callbackToken: z.string().max(500).optional(),
});
export type TAdminAddLabInput = z.infer<typeof ZAdminAddLabInput>;

/** Admin page: one lab by name (enroll, remove). */
export const ZAdminLabRef = z.object({ name: z.string().min(1).max(63) });
