import {
  FEDERATION_INLINE_CASES,
  callbackHostAllowed,
  callbackUrlHost,
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  FEDERATION_TOKEN_HEADER,
  type TNotifyPayload,
} from "@magma/protocol";
import { directQuery, type CallbackOutbox } from "@magma/db/instance";
import { openSealedSecret, signPayload } from "@magma/db/secrets";
import type { InstanceContext } from "../context.ts";
import type { Logger } from "../logger.ts";
import { buildNotifyPayload, urlencodePayload, type TDataset } from "./build-payload.ts";
import { FEDERATION_CALLBACK_INDEX } from "./enqueue-callbacks.ts";

/** HTTP timeout of one delivery, ms (LAVA's CALLBACK_TIMEOUT 5 s). */
export const CALLBACK_TIMEOUT_MS = 5_000;
/** First retry delay and the cap, ms. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;
/** A claimed row is retried after this lease if the process died mid-delivery, ms. */
export const CLAIM_LEASE_MS = 60_000;
/** Idle poll period when nothing is due and nobody wakes the loop, ms. */
const IDLE_POLL_MS = 5_000;
const BATCH = 16;

/**
 * Delay before attempt `attempts + 1`: exponential from 1 s, capped at 5 min, with "equal jitter"
 * (half fixed, half random) so many failing receivers do not retry in lockstep.
 */
export function backoffMs(attempts: number, random = Math.random): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Durable notify-callback sender. Rows are inserted by {@link enqueueCallbacks} in the transaction of
 * the job transition; this loop claims due `pending` rows (`FOR UPDATE SKIP LOCKED`, leased by pushing
 * `next_attempt_at` forward so a crash only delays), sends them with a 5 s timeout, marks 2xx
 * `delivered`, and otherwise stores `last_error` and retries with backoff — forever, unlike LAVA's
 * fire-once callbacks. Each attempt carries X-Magma-Timestamp and X-Magma-Delivery (the row's id,
 * stable across retries); the federation callback is signed (X-Magma-Signature, HMAC-SHA256 over
 * `${timestamp}.${body}`) when MAGMA_FEDERATION_SIGNING_SECRET is set; job notify callbacks have no
 * secret and are not signed. `wake()` (called right after commit) makes a callback leave within
 * milliseconds; pending rows survive restarts because they are rows.
 */
export class OutboxSender {
  private stopped = false;
  private loopPromise: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;
  private readonly inFlight = new AbortController();

  constructor(private readonly ctx: InstanceContext) {}

  /** Starts the delivery loop. */
  start(): void {
    if (!this.loopPromise) this.loopPromise = this.loop();
  }

  /** Asks the loop to look for due rows now. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  /** Stops the loop, aborting deliveries in flight (their rows stay pending and are retried later). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.inFlight.abort();
    this.wakeUp?.();
    await this.loopPromise;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.pendingWake = false;
      let nextDueMs = IDLE_POLL_MS;
      try {
        const rows = await this.claim();
        await Promise.all(rows.map((r) => this.deliver(r)));
        if (rows.length === BATCH) continue;
        const [next] = await directQuery<{ next_attempt_at: Date }>(
          this.ctx.db,
          "outbox_next_due",
          "SELECT next_attempt_at FROM callback_outbox WHERE state = 'pending' ORDER BY next_attempt_at ASC LIMIT 1",
          [],
        );
        if (next) nextDueMs = Math.min(IDLE_POLL_MS, Math.max(0, next.next_attempt_at.getTime() - Date.now()));
      } catch (e) {
        if (!this.stopped) this.ctx.logger.error({ err: e }, "outbox pass failed");
      }
      if (this.stopped || this.pendingWake) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, nextDueMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = null;
    }
  }

  /**
   * Claims up to BATCH due rows by leasing them (next_attempt_at = now + lease). The claim and the
   * next-due read run every few seconds and usually find nothing: through the `pg` pool
   * (directQuery), so an idle instance never loads Prisma's query engine.
   */
  private async claim(): Promise<CallbackOutbox[]> {
    const leaseUntil = new Date(Date.now() + CLAIM_LEASE_MS);
    const ids = await directQuery<{ id: number }>(
      this.ctx.db,
      "outbox_claim",
      `UPDATE callback_outbox SET next_attempt_at = $1::timestamptz
      WHERE id IN (
        SELECT id FROM callback_outbox
        WHERE state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT $2::int
        FOR UPDATE SKIP LOCKED)
      RETURNING id`,
      [leaseUntil, BATCH],
    );
    if (!ids.length) return [];
    return this.ctx.db.callbackOutbox.findMany({ where: { id: { in: ids.map((r) => r.id) } }, orderBy: { id: "asc" } });
  }

  /**
   * The token of a row: the literal one, or the sealed secret of the submitter's API token it names
   * (opened with MAGMA_SECRET_KEY; when that is impossible the token's description is sent, as LAVA
   * sends a `token:` naming no token).
   */
  private async rowToken(row: CallbackOutbox, log: Logger): Promise<string | null> {
    if (row.tokenId === null) return row.token;
    const t = await this.ctx.db.apiToken.findUnique({ where: { id: row.tokenId }, select: { secretSealed: true, description: true } });
    if (!t) return null;
    const secret = this.ctx.config.secretKey && t.secretSealed ? openSealedSecret(this.ctx.config.secretKey, t.secretSealed) : null;
    if (secret === null)
      log.warn({ tokenId: row.tokenId }, "callback token cannot be unsealed (MAGMA_SECRET_KEY unset or changed): sending its description");
    return secret ?? t.description;
  }

  private async deliver(row: CallbackOutbox): Promise<void> {
    const log = this.ctx.logger.child({ jobId: row.jobId, outboxId: row.id, transition: row.transition, url: row.url });
    // the allow-list may have changed since submission: a job callback to a host outside it is not sent (LAVA checks here)
    const host = callbackUrlHost(row.url);
    const allowed = this.ctx.config.callbackAllowedHosts;
    if (row.callbackIndex !== FEDERATION_CALLBACK_INDEX && allowed.length && (host === undefined || !callbackHostAllowed(host, allowed))) {
      const lastError = `Callback URL host '${host ?? row.url}' is not in CALLBACK_ALLOWED_HOSTS (MAGMA_CALLBACK_ALLOWED_HOSTS)`;
      await this.ctx.db.callbackOutbox.update({ where: { id: row.id }, data: { state: "failed", attempts: { increment: 1 }, lastError } });
      log.warn({ host }, "callback refused: host not in MAGMA_CALLBACK_ALLOWED_HOSTS");
      return;
    }
    let error: string;
    try {
      const headers: Record<string, string> = { "user-agent": "magma-instance", ...(row.headers as Record<string, string>) };
      const token = await this.rowToken(row, log);
      if (token !== null && row.tokenHeader !== null) headers[row.tokenHeader] = token;
      if (row.callbackIndex === FEDERATION_CALLBACK_INDEX && this.ctx.config.federationToken)
        headers[FEDERATION_TOKEN_HEADER] = this.ctx.config.federationToken;
      let body: string | undefined;
      if (row.method === "POST") {
        if (row.body !== null) body = row.body;
        else {
          const p =
            row.frozenPayload !== null
              ? (row.frozenPayload as TNotifyPayload)
              : await buildNotifyPayload({
                  db: this.ctx.db,
                  jobId: row.jobId,
                  dataset: row.dataset as TDataset,
                  instanceName: this.ctx.config.name,
                  // a huge job's federation callback carries totals only: the frontend pulls its cases
                  // in pages, or, from an outbound-only lab (MAGMA_FEDERATION_URL), the lab pushes them
                  // over its link (federation/link-cases-pusher.ts)
                  ...(row.callbackIndex === FEDERATION_CALLBACK_INDEX ? { inlineCasesLimit: FEDERATION_INLINE_CASES } : {}),
                });
          body = row.contentType === "json" ? JSON.stringify(p) : urlencodePayload(p);
        }
        headers["content-type"] = row.contentType === "json" ? "application/json" : "application/x-www-form-urlencoded";
      }
      // signed-callback headers: a fresh timestamp per attempt, the row's delivery id on every retry
      const timestamp = Math.floor(Date.now() / 1000);
      headers[CALLBACK_TIMESTAMP_HEADER] = String(timestamp);
      headers[CALLBACK_DELIVERY_HEADER] = row.deliveryId;
      const secret = row.callbackIndex === FEDERATION_CALLBACK_INDEX ? this.ctx.config.federationSigningSecret : null;
      if (secret) headers[CALLBACK_SIGNATURE_HEADER] = signPayload(secret, timestamp, body ?? "");
      const res = await fetch(row.url, {
        method: row.method,
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), this.inFlight.signal]),
      });
      await res.arrayBuffer().catch(() => undefined);
      // the federation receiver answers 409 to a delivery id it already accepted (an earlier attempt
      // whose answer was lost): that delivery is done
      const alreadyReceived = res.status === 409 && row.callbackIndex === FEDERATION_CALLBACK_INDEX;
      if (res.ok || alreadyReceived) {
        await this.ctx.db.callbackOutbox.update({
          where: { id: row.id },
          data: { state: "delivered", deliveredAt: new Date(), attempts: { increment: 1 }, lastError: null },
        });
        log.info(
          { status: res.status, attempts: row.attempts + 1 },
          alreadyReceived ? "callback already received by the frontend (replayed delivery id): delivered" : "callback delivered",
        );
        return;
      }
      error = `HTTP ${res.status} ${res.statusText}`.trim();
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      error =
        err.name === "TimeoutError"
          ? `timed out after ${CALLBACK_TIMEOUT_MS / 1000} seconds`
          : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ""}`;
    }
    if (this.stopped) {
      // shutting down: give the row back at once for the next process
      await this.ctx.db.callbackOutbox.update({ where: { id: row.id }, data: { nextAttemptAt: new Date() } }).catch(() => undefined);
      return;
    }
    const attempts = row.attempts + 1;
    const delay = backoffMs(attempts);
    await this.ctx.db.callbackOutbox.update({
      where: { id: row.id },
      data: { attempts, lastError: error.slice(0, 2000), nextAttemptAt: new Date(Date.now() + delay) },
    });
    log.warn({ attempts, error, retryInMs: delay }, "callback failed, will retry");
  }
}
