import { countFederatedJobsByState, type FrontendDb, type TJobListFilter, type TJobStateCount, type TViewer } from "@magma/db/frontend";

export interface CountJobsByStateOptions {
  db: FrontendDb;
  filter: TJobListFilter;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/** How many federated jobs match the filter, by (state, health), and in total. */
export async function countJobsByState({
  db,
  filter,
  viewer,
}: CountJobsByStateOptions): Promise<{ total: number; counts: TJobStateCount[] }> {
  const counts = await countFederatedJobsByState(db, viewer, filter);
  return { total: counts.reduce((n, c) => n + c.jobs, 0), counts };
}
