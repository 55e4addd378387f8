import {
  ZEnrollResponse,
  ZLabAcksResponse,
  ZLabCasesPushResponse,
  ZLabLogPushResponse,
  ZLabWork,
  type TEnrollResponse,
  type TLabAck,
  type TLabCancelAck,
  type TLabCasesPage,
  type TLabCasesPushResponse,
  type TLabLogChunk,
  type TLabLogPushResponse,
  type TLabWorkCancel,
  type TLabWorkSubmission,
} from "@magma/protocol";
import { upsertUser } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { cancelJobAs } from "../jobs/cancel-job.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { LinkCasesPusher } from "./link-cases-pusher.ts";
import { LinkLogPusher } from "./link-log-pusher.ts";
import { backoffDelayMs } from "./link-pusher.ts";

/** Long-poll wait asked of the frontend, seconds (it answers at once when work is queued). */
export const LINK_WAIT_S = 25;
/** Reconnect backoff after a failed poll: first delay and cap, ms. */
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 15_000;
/** Lab user recording submissions the frontend sends without a submitter. */
const FEDERATION_USER = "federation";

/** Why the link cannot go on (a refused enrollment, a revoked credential): retrying cannot help. */
export class LinkRefusedError extends Error {}

/**
 * The outbound side of an outbound-only lab (MAGMA_FEDERATION_URL): the lab connects to the
 * frontend; the frontend never connects to it (protocol: packages/protocol lab-link).
 *
 *  1. {@link OutboundLink.enroll}: the credential is read from table `federation_link`, or, on the
 *     first start, obtained by exchanging MAGMA_ENROLLMENT_TOKEN and stored there (and again, once,
 *     when the frontend refuses a stored credential and a token is configured). The config's
 *     federation callback URL, token and signing secret are then set from it, so the durable outbox
 *     (OutboxSender) pushes every job state change and result to the frontend exactly as it does for
 *     a lab the frontend calls — same delivery ids, same retries, same idempotent ingest.
 *  2. {@link OutboundLink.start}: a loop of long polls for work. Each submission is submitted here
 *     with the frontend's `Idempotency-Key` as the frontend user (created on first use), then
 *     acknowledged with the job id; an invalid job is acknowledged with the reason. Work the
 *     frontend re-sends after a dropped connection maps to the job created the first time. Network
 *     errors reconnect with capped exponential backoff; nothing is lost, since the frontend keeps
 *     the work until acknowledged and the outbox keeps callbacks until delivered. Each cancel in
 *     the work is carried out as the lab's own cancel (jobs/cancel-job.ts `cancelJobAs`; the
 *     frontend allowed it) and acknowledged with the job's state; a cancel seen again after a
 *     dropped connection changes nothing.
 *  3. {@link LinkLogPusher}: job logs pushed by line range (`POST …/labs/<lab>/logs`), resumed from
 *     the frontend's answer, so nothing is lost or doubled across drops and restarts.
 *  4. {@link LinkCasesPusher}: the test cases of huge Finished jobs (their Finished callback carries
 *     totals only) pushed by keyset pages (`POST …/labs/<lab>/cases`), resumed from the frontend's
 *     cursor, since the frontend cannot pull them from an outbound lab.
 */
export class OutboundLink {
  private stopped = false;
  private loopPromise: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private link: TEnrollResponse | null = null;
  /** whether the enrollment token was already exchanged by this process */
  private tokenUsed = false;
  private readonly logs: LinkLogPusher;
  private readonly cases: LinkCasesPusher;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly frontendUrl: string,
    private readonly enrollmentToken: string | null,
  ) {
    this.logs = new LinkLogPusher(ctx, (chunks) => this.pushLogs(chunks));
    this.cases = new LinkCasesPusher(ctx, (pages) => this.pushCases(pages));
  }

  /**
   * Loads or obtains the lab credential and points the federation callbacks at the frontend.
   * Retries a frontend that cannot be reached until `stop()`.
   * @throws LinkRefusedError when there is no stored credential and no enrollment token, or the
   *   frontend refuses the token (unknown or used)
   */
  async enroll(forgetStored = false): Promise<TEnrollResponse> {
    const stored = await this.ctx.db.federationLink.findUnique({ where: { frontendUrl: this.frontendUrl } });
    if (stored && !forgetStored) {
      this.link = { lab: stored.lab, credential: stored.credential, signing_secret: stored.signingSecret };
    } else {
      if (!this.enrollmentToken)
        throw new LinkRefusedError(
          `not enrolled with ${this.frontendUrl}: set MAGMA_ENROLLMENT_TOKEN (from \`npm run labs -- enroll ${this.ctx.config.name}\` on the frontend)`,
        );
      this.tokenUsed = true;
      this.link = await this.withRetry("enrollment", () => this.exchangeToken(this.enrollmentToken!));
      await this.ctx.db.federationLink.upsert({
        where: { frontendUrl: this.frontendUrl },
        create: {
          frontendUrl: this.frontendUrl,
          lab: this.link.lab,
          credential: this.link.credential,
          signingSecret: this.link.signing_secret,
        },
        update: { lab: this.link.lab, credential: this.link.credential, signingSecret: this.link.signing_secret },
      });
      this.ctx.logger.info({ frontend: this.frontendUrl, lab: this.link.lab }, "enrolled with the frontend (outbound-only lab)");
    }
    if (this.link.lab !== this.ctx.config.name)
      this.ctx.logger.warn({ lab: this.link.lab, instance: this.ctx.config.name }, "the frontend knows this lab under another name");
    this.ctx.config.federationCallbackUrl = `${this.frontendUrl}/api/callbacks/${encodeURIComponent(this.link.lab)}`;
    this.ctx.config.federationToken = this.link.credential;
    this.ctx.config.federationSigningSecret = this.link.signing_secret;
    return this.link;
  }

  /** Starts the work loop and the log and case pushers (after {@link enroll}). */
  start(): void {
    this.loopPromise ??= this.loop();
    this.logs.start();
    this.cases.start();
  }

  /** Stops the loops, hanging up a poll or push in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all([this.loopPromise, this.logs.stop(), this.cases.stop()]);
  }

  private async pushCases(pages: TLabCasesPage[]): Promise<TLabCasesPushResponse> {
    const res = await fetch(`${this.frontendUrl}/api/federation/labs/${encodeURIComponent(this.link!.lab)}/cases`, {
      method: "POST",
      headers: { ...this.headers(), "content-type": "application/json" },
      body: JSON.stringify({ pages }),
      signal: AbortSignal.any([AbortSignal.timeout(60_000), this.abort.signal]),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`cases push: HTTP ${res.status} ${text.slice(0, 200)}`);
    return ZLabCasesPushResponse.parse(JSON.parse(text));
  }

  private async pushLogs(chunks: TLabLogChunk[]): Promise<TLabLogPushResponse> {
    const res = await fetch(`${this.frontendUrl}/api/federation/labs/${encodeURIComponent(this.link!.lab)}/logs`, {
      method: "POST",
      headers: { ...this.headers(), "content-type": "application/json" },
      body: JSON.stringify({ chunks }),
      signal: AbortSignal.any([AbortSignal.timeout(30_000), this.abort.signal]),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`log push: HTTP ${res.status} ${text.slice(0, 200)}`);
    return ZLabLogPushResponse.parse(JSON.parse(text));
  }

  private async exchangeToken(token: string): Promise<TEnrollResponse> {
    const res = await fetch(`${this.frontendUrl}/api/federation/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "magma-instance" },
      body: JSON.stringify({ token }),
      signal: AbortSignal.any([AbortSignal.timeout(15_000), this.abort.signal]),
    });
    const text = await res.text();
    if (res.status === 400 || res.status === 401 || res.status === 403)
      throw new LinkRefusedError(`the frontend refused the enrollment token: HTTP ${res.status} ${text.slice(0, 500)}`);
    if (!res.ok) throw new Error(`enrollment: HTTP ${res.status} ${text.slice(0, 200)}`);
    return ZEnrollResponse.parse(JSON.parse(text));
  }

  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof LinkRefusedError || this.stopped) throw e;
        const delay = backoffDelayMs(attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS);
        this.ctx.logger.warn({ err: describe(e), attempt, retryInMs: delay }, `${what} failed, retrying`);
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.abort.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }

  private headers(): Record<string, string> {
    return { authorization: `Token ${this.link!.credential}`, "user-agent": "magma-instance", accept: "application/json" };
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let connected = false;
    while (!this.stopped) {
      const lab = encodeURIComponent(this.link!.lab);
      try {
        const res = await fetch(`${this.frontendUrl}/api/federation/labs/${lab}/poll?wait=${LINK_WAIT_S}`, {
          headers: this.headers(),
          signal: AbortSignal.any([AbortSignal.timeout((LINK_WAIT_S + 15) * 1000), this.abort.signal]),
        });
        const text = await res.text();
        if (res.status === 401 || res.status === 403 || res.status === 404)
          throw new LinkRefusedError(`the frontend refused this lab's credential: HTTP ${res.status} ${text.slice(0, 300)}`);
        if (!res.ok) throw new Error(`work poll: HTTP ${res.status} ${text.slice(0, 200)}`);
        if (!connected) this.ctx.logger.info({ frontend: this.frontendUrl }, "lab link connected");
        connected = true;
        failures = 0;
        const work = ZLabWork.parse(JSON.parse(text));
        this.logs.want(work.logs);
        this.cases.want(work.cases);
        if (work.submissions.length || work.cancels.length) await this.handle(work.submissions, work.cancels);
      } catch (e) {
        if (this.stopped) break;
        connected = false;
        failures++;
        const refused = e instanceof LinkRefusedError;
        // a stored credential the frontend no longer knows (its database was reset, the lab was
        // removed and enrolled again): exchange the configured enrollment token once more
        if (refused && this.enrollmentToken && !this.tokenUsed) {
          this.ctx.logger.warn({ err: describe(e) }, "stored lab credential refused: enrolling again with MAGMA_ENROLLMENT_TOKEN");
          try {
            await this.enroll(true);
            continue;
          } catch (again) {
            this.ctx.logger.error({ err: describe(again) }, "enrolling again failed");
          }
        }
        // a refused credential may be a re-enrollment in progress: keep trying, slowly
        const delay = refused ? RECONNECT_MAX_MS * 2 : backoffDelayMs(failures, RECONNECT_BASE_MS, RECONNECT_MAX_MS);
        this.ctx.logger[refused ? "error" : "warn"]({ err: describe(e), failures, retryInMs: delay }, "lab link poll failed, reconnecting");
        await this.sleep(delay);
      }
    }
  }

  /** Submits each work item here (idempotently), cancels each job asked, and acknowledges them in one POST. */
  private async handle(items: TLabWorkSubmission[], cancelItems: TLabWorkCancel[]): Promise<void> {
    const acks: TLabAck[] = [];
    const cancels: TLabCancelAck[] = [];
    for (const s of items) {
      try {
        const user = await upsertUser(this.ctx.db, s.submitter ?? FEDERATION_USER);
        const { jobIds, created } = await submitJob({
          ctx: this.ctx,
          submitter: user,
          text: s.definition,
          idempotencyKey: s.idempotency_key,
        });
        acks.push({ target_id: s.target_id, job_id: jobIds[0]! });
        this.ctx.logger.info(
          { targetId: s.target_id, jobId: jobIds[0], created },
          created ? "job submitted over the lab link" : "lab link re-sent a known job",
        );
      } catch (e) {
        // an invalid job is final; anything else (database down) is retried on the next poll
        if (e instanceof AppError && e.statusCode >= 400 && e.statusCode < 500) acks.push({ target_id: s.target_id, error: e.message });
        else this.ctx.logger.error({ targetId: s.target_id, err: describe(e) }, "job from the lab link not submitted, will retry");
      }
    }
    for (const c of cancelItems) {
      try {
        const r = await cancelJobAs(this.ctx, c.job_id, `${c.requested_by} (frontend)`);
        cancels.push({ cancel_id: c.cancel_id, state: r.state });
        this.ctx.logger.info(
          { cancelId: c.cancel_id, jobId: c.job_id, state: r.state, changed: r.changed },
          "job canceled over the lab link",
        );
      } catch (e) {
        // an unknown job is final; anything else (database down) is retried on the next poll
        if (e instanceof AppError && e.statusCode >= 400 && e.statusCode < 500) cancels.push({ cancel_id: c.cancel_id, error: e.message });
        else
          this.ctx.logger.error(
            { cancelId: c.cancel_id, jobId: c.job_id, err: describe(e) },
            "cancel from the lab link failed, will retry",
          );
      }
    }
    if (!acks.length && !cancels.length) return;
    const res = await fetch(`${this.frontendUrl}/api/federation/labs/${encodeURIComponent(this.link!.lab)}/acks`, {
      method: "POST",
      headers: { ...this.headers(), "content-type": "application/json" },
      body: JSON.stringify({ acks, cancels }),
      signal: AbortSignal.any([AbortSignal.timeout(15_000), this.abort.signal]),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`acks: HTTP ${res.status} ${text.slice(0, 200)}`);
    const r = ZLabAcksResponse.parse(JSON.parse(text));
    if (r.unknown.length) this.ctx.logger.warn({ unknown: r.unknown }, "the frontend did not know some acknowledged targets");
  }
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return `${err?.message ?? String(e)}${err?.cause?.code ? ` (${err.cause.code})` : ""}`;
}
