import type { z } from "zod";
import type { FrontendDb, TResultsVisibility } from "@magma/db/frontend";
import { errorResponse } from "../app-error.ts";
import { db } from "../db.ts";
import { parseQuery, resultsVisibility } from "../services/build-results.ts";
import { viewerOf } from "./viewer.ts";

/**
 * A `GET` route handler answering JSON from its query parameters: parses them with `schema`
 * (400 `{code, message}` naming the bad parameter), applies the viewer's job visibility, calls `fn`;
 * answers CSV instead when the query has `format=csv` and `csv` is given.
 * Errors become `{code, message}` with their status (404 for unknown builds).
 */
export function queryRoute<S extends z.ZodObject, R>(
  schema: S,
  fn: (db: FrontendDb, q: z.output<S>, visibility: TResultsVisibility, req: Request) => Promise<R>,
  /** With `format=csv` in the query: the body as CSV and the download's file name. */
  csv?: { body: (r: R) => string; filename: string },
) {
  return async (req: Request): Promise<Response> => {
    try {
      const q = parseQuery(new URL(req.url).searchParams, schema);
      const r = await fn(db(), q, resultsVisibility(await viewerOf(req)), req);
      if (csv && (q as { format?: string }).format === "csv") {
        const next = (r as { next_cursor?: string | null }).next_cursor;
        return new Response(csv.body(r), {
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": `attachment; filename="${csv.filename}"`,
            // the next page of a paged list (pass it as cursor=)
            ...(next ? { "x-next-cursor": next } : {}),
          },
        });
      }
      return Response.json(r);
    } catch (e) {
      return errorResponse(e);
    }
  };
}
