import type { FrontendDb } from "../client.ts";

/** Where a lab's reconciliation pass resumes: after (endTime, jobId) of the lab's finished jobs. */
export interface TReconcileCursor {
  /** the lab's end_time text (ISO, microseconds), compared by the lab's PostgreSQL */
  endTime: string;
  jobId: number;
}

/** What the frontend holds of one remote job, for comparison with the lab's feed. */
export interface TFederatedJobSyncState {
  state: string;
  health: string;
  caseCount: number;
}

/** The stored cursor of a lab, or null before its first complete pass. */
export async function getReconcileCursor(db: FrontendDb, instanceId: number): Promise<TReconcileCursor | null> {
  const i = await db.instance.findUnique({ where: { id: instanceId }, select: { reconciled_end_time: true, reconciled_job_id: true } });
  return i?.reconciled_end_time && i.reconciled_job_id !== null ? { endTime: i.reconciled_end_time, jobId: i.reconciled_job_id } : null;
}

/**
 * Records the outcome of a pass: the new cursor (unchanged when undefined) and the error that
 * stopped it (null = the pass reached the end of the feed).
 */
export async function saveReconcileState(
  db: FrontendDb,
  instanceId: number,
  cursor: TReconcileCursor | undefined,
  error: string | null,
): Promise<void> {
  await db.instance.update({
    where: { id: instanceId },
    data: {
      ...(cursor ? { reconciled_end_time: cursor.endTime, reconciled_job_id: cursor.jobId } : {}),
      reconciled_at: new Date(),
      reconcile_error: error ? error.slice(0, 2000) : null,
    },
  });
}

/** Forgets a lab's cursor, so the next pass walks every finished job again (tests, operators). */
export async function resetReconcileCursor(db: FrontendDb, instanceId: number): Promise<void> {
  await db.instance.update({ where: { id: instanceId }, data: { reconciled_end_time: null, reconciled_job_id: null } });
}

/**
 * State, health and number of stored test cases of the given remote jobs of one lab (jobs the
 * frontend does not know are absent from the map). One query for the whole page.
 */
export async function federatedJobSyncStates(
  db: FrontendDb,
  instanceId: number,
  remoteIds: readonly number[],
): Promise<Map<number, TFederatedJobSyncState>> {
  if (remoteIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ remote_id: number; state: string; health: string; case_count: number }[]>`
    SELECT j.remote_id, j.state, j.health, (SELECT count(*)::int FROM federated_test_case c WHERE c.job_id = j.id) AS case_count
    FROM federated_job j
    WHERE j.instance_id = ${instanceId} AND j.remote_id = ANY(${[...remoteIds]}::int[])`;
  return new Map(rows.map((r) => [r.remote_id, { state: r.state, health: r.health, caseCount: r.case_count }]));
}
