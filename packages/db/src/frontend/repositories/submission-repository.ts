import { Prisma } from "../../generated/frontend/client";
import type { FrontendDb } from "../client.ts";
import type { TInstanceRecord, TSubmission } from "../dto.ts";
import { instanceRecord } from "./instance-repository.ts";

const include = { targets: { include: { instance: { select: { name: true } } } }, user: { select: { username: true } } } as const;
type SubmissionRow = Prisma.SubmissionGetPayload<{ include: typeof include }>;

function toSubmission(s: SubmissionRow): TSubmission {
  return {
    id: s.id,
    clientRequestId: s.client_request_id,
    deviceType: s.device_type,
    jobName: s.job_name,
    definition: s.definition,
    createdAt: s.created_at.toISOString(),
    userId: s.user_id,
    submitter: s.user?.username ?? null,
    targets: s.targets
      .map((t) => ({
        id: t.id,
        lab: t.instance.name,
        status: t.status,
        remoteJobId: t.remote_job_id,
        error: t.error,
        attempts: t.attempts,
        updatedAt: t.updated_at.toISOString(),
      }))
      .sort((a, b) => a.lab.localeCompare(b.lab)),
  };
}

export interface CreateSubmissionInput {
  clientRequestId: string;
  definition: string;
  deviceType: string;
  jobName: string;
  instanceIds: number[];
  /** The submitting user. */
  userId: number;
}

/**
 * Creates a submission with one `queued` target per lab, or returns the one already stored under
 * `clientRequestId` (double-click / retried request: `created: false`, nothing new is written).
 */
export async function createSubmissionRecord(
  db: FrontendDb,
  input: CreateSubmissionInput,
): Promise<{ submission: TSubmission; created: boolean }> {
  const existing = await db.submission.findUnique({ where: { client_request_id: input.clientRequestId }, include });
  if (existing) return { submission: toSubmission(existing), created: false };
  try {
    const s = await db.submission.create({
      data: {
        client_request_id: input.clientRequestId,
        definition: input.definition,
        device_type: input.deviceType,
        job_name: input.jobName,
        user_id: input.userId,
        targets: { create: input.instanceIds.map((instance_id) => ({ instance_id })) },
      },
      include,
    });
    return { submission: toSubmission(s), created: true };
  } catch (e) {
    // a concurrent request with the same id won the race: answer with its submission
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      const s = await db.submission.findUnique({ where: { client_request_id: input.clientRequestId }, include });
      if (s) return { submission: toSubmission(s), created: false };
    }
    throw e;
  }
}

/** A submission with its targets, or null. */
export async function findSubmission(db: FrontendDb, id: string): Promise<TSubmission | null> {
  const s = await db.submission.findUnique({ where: { id }, include });
  return s ? toSubmission(s) : null;
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

/** Marks a target submitted with the lab's job id (idempotent). */
export async function markTargetSubmitted(db: FrontendDb, targetId: string, remoteJobId: number): Promise<void> {
  await db.submissionTarget.update({ where: { id: targetId }, data: { status: "submitted", remote_job_id: remoteJobId, error: null } });
}

/** Marks a target failed with the lab's (or the network's) error message; never overrides `submitted`. */
export async function markTargetFailed(db: FrontendDb, targetId: string, error: string): Promise<void> {
  await db.submissionTarget.updateMany({ where: { id: targetId, status: { not: "submitted" } }, data: { status: "failed", error } });
}

/** The submission stored under a client request id, or null. */
export async function findSubmissionByClientRequestId(db: FrontendDb, clientRequestId: string): Promise<TSubmission | null> {
  const s = await db.submission.findUnique({ where: { client_request_id: clientRequestId }, include });
  return s ? toSubmission(s) : null;
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
