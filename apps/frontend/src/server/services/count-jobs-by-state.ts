import { countFederatedJobsByState, type FrontendDb, type TJobListFilter, type TJobStateCount } from "@magma/db/frontend";

export interface CountJobsByStateOptions {
  db: FrontendDb;
  filter: TJobListFilter;
}

/** How many federated jobs match the filter, by (state, health), and in total. */
export async function countJobsByState({ db, filter }: CountJobsByStateOptions): Promise<{ total: number; counts: TJobStateCount[] }> {
  const counts = await countFederatedJobsByState(db, filter);
  return { total: counts.reduce((n, c) => n + c.jobs, 0), counts };
}
