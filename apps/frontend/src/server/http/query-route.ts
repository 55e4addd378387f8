import type { z } from "zod";
import type { FrontendDb, TJobVisibility } from "@magma/db/frontend";
import { errorResponse } from "../app-error.ts";
import { db } from "../db.ts";
import { parseQuery, resultsVisibility } from "../services/build-results.ts";

/**
 * A `GET` route handler answering JSON from its query parameters: parses them with `schema`
 * (400 `{code, message}` naming the bad parameter), applies the viewer's job visibility, calls `fn`.
 * Errors become `{code, message}` with their status (404 for unknown builds).
 */
export function queryRoute<S extends z.ZodObject, R>(schema: S, fn: (db: FrontendDb, q: z.output<S>, visibility: TJobVisibility) => Promise<R>) {
  return async (req: Request): Promise<Response> => {
    try {
      const q = parseQuery(new URL(req.url).searchParams, schema);
      return Response.json(await fn(db(), q, resultsVisibility(req)));
    } catch (e) {
      return errorResponse(e);
    }
  };
}
