import {
  listJobFacets,
  listMetadataKeys,
  resultsMatrix,
  type FrontendDb,
  type TJobListFilter,
  type TResultMatrixRow,
  type TViewer,
} from "@magma/db/frontend";

export interface GetResultsMatrixOptions {
  db: FrontendDb;
  /** Metadata key to group by (e.g. "kernel.branch"); empty = the first known key. */
  groupBy?: string;
  filter: TJobListFilter;
  /** Who asks (null: anonymous); only jobs they may read are counted/shown (job-visibility.ts). */
  viewer: TViewer | null;
}

/**
 * Test results grouped by a metadata value × lab × device type, plus the metadata keys, labs and
 * device types on offer (the page's pickers).
 */
export async function getResultsMatrix({
  db,
  groupBy,
  filter,
  viewer,
}: GetResultsMatrixOptions): Promise<{ groupBy: string; keys: string[]; labs: string[]; deviceTypes: string[]; rows: TResultMatrixRow[] }> {
  // with a group-by key given (every request but a first visit), the matrix does not wait for the
  // pickers' scans: all three run at once, each a scan of the jobs at 10 M cases
  const [keys, facets, given] = await Promise.all([
    listMetadataKeys(db, viewer),
    listJobFacets(db, viewer),
    groupBy ? resultsMatrix(db, viewer, groupBy, filter) : undefined,
  ]);
  const key = groupBy || keys.find((k) => /commit|describe/.test(k)) || keys[0] || "";
  return { groupBy: key, keys, ...facets, rows: given ?? (await resultsMatrix(db, viewer, key, filter)) };
}
