/**
 * `npm run transfer -- LAB JOB_ID [--page N] [--log-chunk N]`: pulls one finished job from its lab
 * now, in this process, as the frontend does for a huge job: reads the job's federation payload
 * (bounded: no log, cases only up to FEDERATION_INLINE_CASES), ingests it like a callback (which
 * opens the job's transfer, or finds the one already there), then pulls the cases page by page and
 * the log by line ranges, continuing from the job's stored cursor (the `magma-transfers` consumer
 * runs the same transfer inside the frontend). Prints one progress line per chunk and a JSON summary
 * with this process's peak RSS (`maxRssKb`). Exit 0 when the transfer is complete, 1 on error (run
 * it again: it resumes).
 * Reads MAGMA_FRONTEND_DATABASE_URL and MAGMA_LAB_TIMEOUT_MS like the frontend.
 */
import { parseArgs } from "node:util";
import { AppError } from "../server/app-error.ts";
import { closeDb, db } from "../server/db.ts";
import { env } from "../env.ts";
import { logger } from "../server/logger.ts";
import { findInstanceByName } from "@magma/db/frontend";
import { ingestCallback } from "../server/services/ingest-callback.ts";
import { fetchFederationPayload, reachableLab } from "../server/services/instance-client.ts";
import { runJobTransfer } from "../server/services/transfer-job.ts";

const USAGE = "usage: npm run transfer -- LAB JOB_ID [--page CASES] [--log-chunk LINES]";

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive integer (got "${v}")`);
  return Number(v);
}

try {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { page: { type: "string" }, "log-chunk": { type: "string" } },
  });
  const [lab, id] = positionals;
  if (!lab || !id || positionals.length !== 2) throw new Error(`LAB and JOB_ID are required\n${USAGE}`);
  const remoteId = positiveInt("JOB_ID", id)!;
  const casesPageSize = positiveInt("--page", values.page);
  const logChunkLines = positiveInt("--log-chunk", values["log-chunk"]);
  const timeoutMs = Math.max(env().MAGMA_LAB_TIMEOUT_MS, 30_000);
  const stored = await findInstanceByName(db(), lab);
  if (!stored) throw new Error(`lab "${lab}" is not configured on this frontend`);
  const instance = reachableLab(stored);
  if (!instance) throw new Error(`lab "${lab}" is outbound-only: the frontend has no URL to pull its job from`);
  const { log: _log, token: _token, ...payload } = await fetchFederationPayload(instance, remoteId, timeoutMs);
  const ingested = await ingestCallback({ db: db(), job: { instance: lab, receivedAt: new Date().toISOString(), payload }, log: logger() });
  if (!ingested.transfer)
    console.log(`transfer ${lab} ${remoteId}: nothing left to pull (${payload.state_string}/${payload.health_string})`);
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  const r = !ingested.transfer
    ? null
    : await runJobTransfer({
        db: db(),
        lab,
        remoteId,
        log: logger(),
        timeoutMs,
        signal: stop.signal,
        ...(casesPageSize ? { casesPageSize } : {}),
        ...(logChunkLines ? { logChunkLines } : {}),
        onStart: (f) => console.log(`transfer ${lab} ${remoteId}: starting at cases_after_id=${f.casesAfterId} log_line=${f.logNextLine}`),
        onProgress: (p) => console.log(`transfer ${lab} ${remoteId}: ${p.kind} cases=${p.casesStored} lines=${p.linesStored}`),
      });
  console.log(JSON.stringify({ ...(r ?? { lab, remoteId, done: true }), maxRssKb: process.resourceUsage().maxRSS }));
  await closeDb();
  process.exit(!r || r.done ? 0 : 1);
} catch (e) {
  await closeDb();
  console.error(`transfer: ${e instanceof AppError ? e.userMessage : (e as Error).message}`);
  if (!(e instanceof AppError)) console.error((e as Error).stack);
  process.exit(1);
}
