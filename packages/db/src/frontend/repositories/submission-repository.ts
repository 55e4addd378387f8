import { Prisma } from "../../generated/frontend/client";
import type { FrontendDb } from "../client.ts";
import type { TInstanceRecord, TSubmission } from "../dto.ts";
import { instanceRecord } from "./instance-repository.ts";

const include = {
  targets: { include: { instance: { select: { name: true } }, placements: { orderBy: { number: "asc" } } } },
  user: { select: { username: true } },
} as const;
type SubmissionRow = Prisma.SubmissionGetPayload<{ include: typeof include }>;
type JobStatus = { state: string; health: string; errorType: string | null };

/** state/health/error_type of the federated jobs of these placements, keyed `${instanceId}:${remoteJobId}`. */
async function placementJobs(db: FrontendDb, rows: SubmissionRow[]): Promise<Map<string, JobStatus>> {
  const pairs = rows.flatMap((s) =>
    s.targets.flatMap((t) =>
      t.placements.filter((p) => p.remote_job_id !== null).map((p) => ({ instance_id: p.instance_id, remote_id: p.remote_job_id! })),
    ),
  );
  if (!pairs.length) return new Map();
  const jobs = await db.federatedJob.findMany({
    where: { OR: pairs },
    select: { instance_id: true, remote_id: true, state: true, health: true, error_type: true },
  });
  return new Map(jobs.map((j) => [`${j.instance_id}:${j.remote_id}`, { state: j.state, health: j.health, errorType: j.error_type }]));
}

function toSubmission(s: SubmissionRow, jobs: Map<string, JobStatus>): TSubmission {
  return {
    id: s.id,
    clientRequestId: s.client_request_id,
    deviceType: s.device_type,
    jobName: s.job_name,
    definition: s.definition,
    createdAt: s.created_at.toISOString(),
    userId: s.user_id,
    submitter: s.user?.username ?? null,
    anyLab: s.any_lab,
    retryInfrastructure: s.retry_infrastructure,
    targets: s.targets
      .map((t) => ({
        id: t.id,
        lab: t.instance.name,
        status: t.status,
        remoteJobId: t.remote_job_id,
        error: t.error,
        attempts: t.attempts,
        updatedAt: t.updated_at.toISOString(),
        placements: t.placements.map((p) => {
          const job = p.remote_job_id !== null ? jobs.get(`${p.instance_id}:${p.remote_job_id}`) : undefined;
          return {
            number: p.number,
            lab: p.lab,
            remoteJobId: p.remote_job_id,
            status: p.status === "retried" ? ("retried" as const) : ("active" as const),
            state: job?.state ?? null,
            health: job?.health ?? null,
            errorType: job?.errorType ?? null,
            createdAt: p.created_at.toISOString(),
          };
        }),
      }))
      .sort((a, b) => a.lab.localeCompare(b.lab)),
  };
}

export interface CreateSubmissionInput {
  clientRequestId: string;
  definition: string;
  deviceType: string;
  jobName: string;
  /** One target per lab, each with its first placement. */
  labs: Array<{ id: number; name: string }>;
  /** The submitting user. */
  userId: number;
  /** `labs: "any"` (the one lab was chosen by placement) */
  anyLab?: boolean;
  /** `retry.infrastructure` (0 when absent) */
  retryInfrastructure?: number;
}

/**
 * Creates a submission with one `queued` target per lab (each with its placement number 1), or returns the one already stored under
 * `clientRequestId` (double-click / retried request: `created: false`, nothing new is written).
 */
export async function createSubmissionRecord(
  db: FrontendDb,
  input: CreateSubmissionInput,
): Promise<{ submission: TSubmission; created: boolean }> {
  const existing = await db.submission.findUnique({ where: { client_request_id: input.clientRequestId }, include });
  if (existing) return { submission: toSubmission(existing, await placementJobs(db, [existing])), created: false };
  try {
    // the nested create is one transaction; the targets, placements and user are read after it
    // commits: a read with sibling relations inside a transaction runs its relation queries
    // concurrently on the transaction's one pg client (deprecated in pg 8, refused by pg 9)
    const { id } = await db.submission.create({
      data: {
        client_request_id: input.clientRequestId,
        definition: input.definition,
        device_type: input.deviceType,
        job_name: input.jobName,
        user_id: input.userId,
        any_lab: input.anyLab ?? false,
        retry_infrastructure: input.retryInfrastructure ?? 0,
        targets: {
          create: input.labs.map((l) => ({ instance_id: l.id, placements: { create: [{ number: 1, instance_id: l.id, lab: l.name }] } })),
        },
      },
      select: { id: true },
    });
    const s = await db.submission.findUniqueOrThrow({ where: { id }, include });
    return { submission: toSubmission(s, new Map()), created: true };
  } catch (e) {
    // a concurrent request with the same id won the race: answer with its submission
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      const s = await db.submission.findUnique({ where: { client_request_id: input.clientRequestId }, include });
      if (s) return { submission: toSubmission(s, await placementJobs(db, [s])), created: false };
    }
    throw e;
  }
}

/** A submission with its targets and their placements (with their jobs' state), or null. */
export async function findSubmission(db: FrontendDb, id: string): Promise<TSubmission | null> {
  const s = await db.submission.findUnique({ where: { id }, include });
  return s ? toSubmission(s, await placementJobs(db, [s])) : null;
}

/** What the fan-out worker needs for one target: its status, the definition and the lab. */
export interface TSubmissionTargetWork {
  targetId: string;
  submissionId: string;
  status: "queued" | "submitted" | "failed";
  remoteJobId: number | null;
  definition: string;
  /** User name the lab must record as the submitter (null: a submission from before accounts). */
  submitter: string | null;
  instance: TInstanceRecord;
}

/** Loads one target with its submission's definition and its lab, or null. */
export async function findSubmissionTargetWork(db: FrontendDb, targetId: string): Promise<TSubmissionTargetWork | null> {
  const t = await db.submissionTarget.findUnique({
    where: { id: targetId },
    include: { submission: { include: { user: { select: { username: true } } } }, instance: true },
  });
  if (!t) return null;
  return {
    targetId: t.id,
    submissionId: t.submission_id,
    status: t.status,
    remoteJobId: t.remote_job_id,
    definition: t.submission.definition,
    submitter: t.submission.user?.username ?? null,
    instance: instanceRecord(t.instance),
  };
}

/** Counts one more delivery attempt of a target (shown on the submission page). */
export async function recordSubmissionAttempt(db: FrontendDb, targetId: string, lastError: string | null): Promise<void> {
  await db.submissionTarget.update({
    where: { id: targetId },
    data: { attempts: { increment: 1 }, ...(lastError ? { error: lastError } : {}) },
  });
}

/** Marks a target (and its active placement) submitted with the lab's job id (idempotent). */
export async function markTargetSubmitted(db: FrontendDb, targetId: string, remoteJobId: number): Promise<void> {
  await db.$transaction([
    db.submissionTarget.update({ where: { id: targetId }, data: { status: "submitted", remote_job_id: remoteJobId, error: null } }),
    db.submissionAttempt.updateMany({ where: { target_id: targetId, status: "active" }, data: { remote_job_id: remoteJobId } }),
  ]);
}

/** Marks a target failed with the lab's (or the network's) error message; never overrides `submitted`. */
export async function markTargetFailed(db: FrontendDb, targetId: string, error: string): Promise<void> {
  await db.submissionTarget.updateMany({ where: { id: targetId, status: { not: "submitted" } }, data: { status: "failed", error } });
}

/** The submission stored under a client request id, or null. */
export async function findSubmissionByClientRequestId(db: FrontendDb, clientRequestId: string): Promise<TSubmission | null> {
  const s = await db.submission.findUnique({ where: { client_request_id: clientRequestId }, include });
  return s ? toSubmission(s, await placementJobs(db, [s])) : null;
}

/** A submission target whose current placement is one lab job, with what a retry decision needs. */
export interface TRetryCandidate {
  targetId: string;
  submissionId: string;
  userId: number | null;
  deviceType: string;
  retryInfrastructure: number;
  /** placements of this target so far */
  placements: number;
  /** ids of every lab any target of the submission was ever placed on (a retry never goes back) */
  usedInstanceIds: number[];
  /** the lab job of the current placement */
  remoteJobId: number | null;
}

const candidateInclude = {
  submission: { include: { targets: { include: { placements: { select: { instance_id: true } } } } } },
  placements: true,
} as const;
type CandidateRow = Prisma.SubmissionTargetGetPayload<{ include: typeof candidateInclude }>;

function toCandidate(t: CandidateRow): TRetryCandidate {
  return {
    targetId: t.id,
    submissionId: t.submission_id,
    userId: t.submission.user_id,
    deviceType: t.submission.device_type,
    retryInfrastructure: t.submission.retry_infrastructure,
    placements: t.placements.length,
    usedInstanceIds: [...new Set(t.submission.targets.flatMap((x) => [x.instance_id, ...x.placements.map((p) => p.instance_id)]))],
    remoteJobId: t.remote_job_id,
  };
}

/**
 * The submission target currently placed on lab job (instanceId, remoteJobId), or null (a job not
 * submitted through the frontend, or a placement already replaced).
 */
export async function findRetryCandidate(db: FrontendDb, instanceId: number, remoteJobId: number): Promise<TRetryCandidate | null> {
  const t = await db.submissionTarget.findFirst({
    where: { instance_id: instanceId, remote_job_id: remoteJobId, status: "submitted" },
    include: candidateInclude,
  });
  return t ? toCandidate(t) : null;
}

/**
 * Targets submitted to a lab whose job has not finished there (no Finished callback received) and
 * whose submission still has retries left: what a vanished lab strands.
 */
export async function findStrandedTargets(db: FrontendDb, instanceId: number): Promise<TRetryCandidate[]> {
  const rows = await db.submissionTarget.findMany({
    where: { instance_id: instanceId, status: "submitted", remote_job_id: { not: null }, submission: { retry_infrastructure: { gt: 0 } } },
    include: candidateInclude,
  });
  const finished = new Set(
    (
      await db.federatedJob.findMany({
        where: { instance_id: instanceId, state: "Finished", remote_id: { in: rows.map((r) => r.remote_job_id!) } },
        select: { remote_id: true },
      })
    ).map((j) => j.remote_id),
  );
  return rows
    .filter((r) => !finished.has(r.remote_job_id!))
    .map(toCandidate)
    .filter((c) => c.placements - 1 < c.retryInfrastructure);
}

/**
 * Moves a target from its current lab job to a new lab as a new `queued` placement, in one
 * transaction guarded on the old (lab, job) so a re-delivered callback or two consumers racing move
 * it once: the old placement becomes `retried`, placement number n+1 is created, the target is reset
 * (queued, no job id, 0 delivery attempts, `reason` as its note).
 * @returns false when the target no longer sits on that job (someone moved it already)
 */
export async function moveTargetToLab(
  db: FrontendDb,
  input: { targetId: string; fromInstanceId: number; fromRemoteJobId: number; to: { id: number; name: string }; reason: string },
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const moved = await tx.submissionTarget.updateMany({
      where: { id: input.targetId, instance_id: input.fromInstanceId, remote_job_id: input.fromRemoteJobId, status: "submitted" },
      data: { instance_id: input.to.id, status: "queued", remote_job_id: null, attempts: 0, error: input.reason },
    });
    if (moved.count !== 1) return false;
    await tx.submissionAttempt.updateMany({ where: { target_id: input.targetId, status: "active" }, data: { status: "retried" } });
    const n = await tx.submissionAttempt.count({ where: { target_id: input.targetId } });
    await tx.submissionAttempt.create({ data: { target_id: input.targetId, number: n + 1, instance_id: input.to.id, lab: input.to.name } });
    return true;
  });
}

/** Sets a target's note (e.g. why an Infrastructure failure could not be retried), leaving its status. */
export async function noteTargetError(db: FrontendDb, targetId: string, error: string): Promise<void> {
  await db.submissionTarget.update({ where: { id: targetId }, data: { error } });
}

/**
 * The frontend user whose submission created job `remoteJobId` on lab `instanceId`, or null (a job
 * submitted on the lab directly, or by an anonymous submission). A LAVA lab records the frontend's
 * own LAVA user as every job's submitter; this gives the real one back.
 */
export async function findSubmitterOfRemoteJob(db: FrontendDb, instanceId: number, remoteJobId: number): Promise<string | null> {
  const t = await db.submissionTarget.findFirst({
    where: { instance_id: instanceId, remote_job_id: remoteJobId },
    select: { submission: { select: { user: { select: { username: true } } } } },
  });
  return t?.submission.user?.username ?? null;
}

/** One submission an outbound-only lab must run: what it pulls over its link. */
export interface TOutboundSubmission {
  targetId: string;
  submissionId: string;
  definition: string;
  submitter: string | null;
}

/**
 * The queued (not yet acknowledged) submission targets of lab `instanceId`, oldest first: the work an
 * outbound-only lab pulls. A target stays listed until the lab acknowledges it
 * ({@link markTargetSubmitted} / {@link markTargetFailed}), so work sent over a link that drops is
 * sent again (the lab dedupes by idempotency key).
 */
export async function listQueuedTargetsForLab(db: FrontendDb, instanceId: number, limit: number): Promise<TOutboundSubmission[]> {
  const rows = await db.submissionTarget.findMany({
    where: { instance_id: instanceId, status: "queued" },
    orderBy: [{ created_at: "asc" }, { id: "asc" }],
    take: limit,
    include: { submission: { include: { user: { select: { username: true } } } } },
  });
  return rows.map((t) => ({
    targetId: t.id,
    submissionId: t.submission_id,
    definition: t.submission.definition,
    submitter: t.submission.user?.username ?? null,
  }));
}

/** The target `targetId` if it belongs to lab `instanceId` (an outbound lab may only acknowledge its own). */
export async function findLabTarget(
  db: FrontendDb,
  instanceId: number,
  targetId: string,
): Promise<{ id: string; status: "queued" | "submitted" | "failed"; remoteJobId: number | null } | null> {
  const t = await db.submissionTarget.findFirst({ where: { id: targetId, instance_id: instanceId } });
  return t ? { id: t.id, status: t.status, remoteJobId: t.remote_job_id } : null;
}
