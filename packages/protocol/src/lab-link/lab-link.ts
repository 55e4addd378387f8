import { z } from "zod";
import { ZLogLine } from "../log/log.ts";

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
 *     `{cancels: [{cancel_id, state} | {cancel_id, error}]}` — the cancels of jobs the lab carried out
 *     (a cancel is sent again on every poll until acknowledged; canceling twice changes nothing).
 *  4. `POST {frontend}/api/federation/labs/<lab>/logs` `{chunks: [{job_id, first_line, lines, end?}]}`
 *     — the job logs, pushed by line range while the jobs run (at least every second while lines
 *     flow). The frontend stores lines from its own resume point per job and answers it
 *     (`{jobs: [{job_id, known, next_line, done}]}`); lines it already has are skipped, a chunk
 *     starting after it is refused, so a chunk re-sent after a dropped connection or a restart is
 *     stored exactly once. A chunk with no lines asks for the resume point. The poll lists the jobs
 *     whose log the frontend still waits for (`logs`), so a restarted lab resumes them.
 *  4b. `POST {frontend}/api/federation/labs/<lab>/cases` `{pages: [{job_id, after_id, results, next_after_id}]}`
 *     — the test cases of a huge Finished job (more than FEDERATION_INLINE_CASES: its Finished
 *     callback carries totals only), pushed by keyset pages of at most 5 000. The frontend keeps the
 *     cursor (last stored case id) per job, stores a page only when it starts at that cursor, and
 *     answers it (`{jobs: [{job_id, known, after_id, done}]}`), so a re-sent page is stored once; the
 *     poll lists the jobs whose cases it still waits for (`cases`).
 *  5. Job state changes and results go up through the lab's durable callback outbox to
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

/** A cancel of one of the lab's jobs, asked on the frontend (re-sent until acknowledged). */
export const ZLabWorkCancel = z.object({
  cancel_id: z.string().min(1),
  job_id: z.number().int().positive(),
  /** frontend user who asked */
  requested_by: z.string(),
});
export type TLabWorkCancel = z.infer<typeof ZLabWorkCancel>;

/** A job whose log the frontend still waits for, and the first line it does not have. */
export const ZLabLogWanted = z.object({ job_id: z.number().int().positive(), next_line: z.number().int().nonnegative() });
export type TLabLogWanted = z.infer<typeof ZLabLogWanted>;

/** A huge job of the lab whose cases the frontend still waits for, with the case id to resume after. */
export const ZLabCasesWanted = z.object({ job_id: z.number().int().positive(), after_id: z.number().int().nonnegative() });
export type TLabCasesWanted = z.infer<typeof ZLabCasesWanted>;

export const ZLabWork = z.object({
  submissions: z.array(ZLabWorkSubmission),
  cancels: z.array(ZLabWorkCancel).default([]),
  logs: z.array(ZLabLogWanted).default([]),
  cases: z.array(ZLabCasesWanted).default([]),
});
export type TLabWork = z.infer<typeof ZLabWork>;

/** The lab's answer for one target: its job id, or why it refused the job (final). */
export const ZLabAck = z.union([
  z.strictObject({ target_id: z.string().min(1), job_id: z.number().int().positive() }),
  z.strictObject({ target_id: z.string().min(1), error: z.string().min(1).max(4000) }),
]);
export type TLabAck = z.infer<typeof ZLabAck>;

/** The lab's answer for one cancel: the job's state after it, or why it could not cancel (final). */
export const ZLabCancelAck = z.union([
  z.strictObject({ cancel_id: z.string().min(1), state: z.string().min(1).max(40) }),
  z.strictObject({ cancel_id: z.string().min(1), error: z.string().min(1).max(4000) }),
]);
export type TLabCancelAck = z.infer<typeof ZLabCancelAck>;

export const ZLabAcksRequest = z
  .strictObject({ acks: z.array(ZLabAck).max(100).default([]), cancels: z.array(ZLabCancelAck).max(100).default([]) })
  .refine((r) => r.acks.length + r.cancels.length > 0, { message: "acks/cancels: at least one acknowledgement", path: ["acks"] });
export type TLabAcksRequest = z.infer<typeof ZLabAcksRequest>;

export const ZLabAcksResponse = z.object({ accepted: z.number().int(), unknown: z.array(z.string()) });
export type TLabAcksResponse = z.infer<typeof ZLabAcksResponse>;

/** Most log lines in one pushed chunk. */
export const LAB_LOG_CHUNK_MAX_LINES = 1000;

/**
 * Log lines `[first_line, first_line + lines.length)` of one job; each line carries its own index
 * (`lines[i].line === first_line + i`). `end`: the job is Finished and its log has `end` lines in
 * all (sent with the chunk that reaches it, or alone with no lines).
 */
export const ZLabLogChunk = z
  .strictObject({
    job_id: z.number().int().positive(),
    first_line: z.number().int().nonnegative(),
    lines: z.array(ZLogLine).max(LAB_LOG_CHUNK_MAX_LINES),
    end: z.number().int().nonnegative().optional(),
  })
  .refine((c) => c.lines.every((l, i) => l.line === c.first_line + i), {
    message: "lines: each line's `line` must be first_line + its position",
    path: ["lines"],
  });
export type TLabLogChunk = z.infer<typeof ZLabLogChunk>;

export const ZLabLogPushRequest = z.strictObject({ chunks: z.array(ZLabLogChunk).min(1).max(100) });
export type TLabLogPushRequest = z.infer<typeof ZLabLogPushRequest>;

/** Per pushed job: whether the frontend knows it yet, its resume point and whether its log is complete. */
export const ZLabLogJobState = z.object({
  job_id: z.number().int().positive(),
  known: z.boolean(),
  next_line: z.number().int().nonnegative(),
  done: z.boolean(),
});
export type TLabLogJobState = z.infer<typeof ZLabLogJobState>;

export const ZLabLogPushResponse = z.object({ jobs: z.array(ZLabLogJobState) });
export type TLabLogPushResponse = z.infer<typeof ZLabLogPushResponse>;

/** Most test cases in one pushed page. */
export const LAB_CASES_PAGE_MAX = 5000;

/**
 * One keyset page of a Finished job's test cases, pushed by an outbound lab (issue 13 item 6): the
 * cases with an id above `after_id`, in id order, as LAVA's results export (the items of the notify
 * `results` dataset, each with its `id`); `next_after_id` is the id of the page's last case, or null
 * when the page reaches the job's last case. `after_id` null: no page, only asks where to resume.
 */
export const ZLabCasesPage = z.strictObject({
  job_id: z.number().int().positive(),
  after_id: z.number().int().nonnegative().nullable(),
  results: z.array(z.record(z.string(), z.unknown())).max(LAB_CASES_PAGE_MAX),
  next_after_id: z.number().int().nonnegative().nullable(),
});
export type TLabCasesPage = z.infer<typeof ZLabCasesPage>;

export const ZLabCasesPushRequest = z.strictObject({ pages: z.array(ZLabCasesPage).min(1).max(20) });
export type TLabCasesPushRequest = z.infer<typeof ZLabCasesPushRequest>;

/**
 * Per pushed job: `known` false when the frontend waits for no pushed cases of it (no Finished
 * callback with `magma.transfer` yet); `after_id` the case id to resume after; `done` once every
 * case is stored.
 */
export const ZLabCasesJobState = z.object({
  job_id: z.number().int().positive(),
  known: z.boolean(),
  after_id: z.number().int().nonnegative(),
  done: z.boolean(),
});
export type TLabCasesJobState = z.infer<typeof ZLabCasesJobState>;

export const ZLabCasesPushResponse = z.object({ jobs: z.array(ZLabCasesJobState) });
export type TLabCasesPushResponse = z.infer<typeof ZLabCasesPushResponse>;

/** Frontend REST/tRPC: cancel one federated job. */
export const ZCancelJobResponse = z.object({
  lab: z.string(),
  id: z.number().int(),
  /** `sent`: the lab was told now; `queued`: an outbound lab gets it on its next poll; `finished`: nothing to cancel */
  status: z.enum(["sent", "queued", "finished"]),
  message: z.string(),
});
export type TCancelJobResponse = z.infer<typeof ZCancelJobResponse>;

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
