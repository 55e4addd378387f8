import type { Notifier } from "./notifier.ts";

/** What must be woken once a transaction commits. Collected inside, applied after, never before commit. */
export class Effects {
  readonly workers = new Set<string>();
  readonly jobs = new Set<number>();
  schedule = false;
  outbox = false;
  /** jobs whose notify email recipients are due (the transition matched the criteria) */
  readonly emails = new Set<number>();
  /** jobs that recorded test cases (their live results are pushed to the federation) */
  readonly casesRecorded = new Set<number>();

  wakeWorker(hostname: string | null | undefined): this {
    if (hostname) this.workers.add(hostname);
    return this;
  }
  jobChanged(jobId: number): this {
    this.jobs.add(jobId);
    return this;
  }
  requestSchedule(): this {
    this.schedule = true;
    return this;
  }
  wakeOutbox(): this {
    this.outbox = true;
    return this;
  }
  sendEmails(jobId: number): this {
    this.emails.add(jobId);
    return this;
  }
  recordedCases(jobId: number): this {
    this.casesRecorded.add(jobId);
    return this;
  }
}

/** The in-process parts that effects wake; the scheduler and outbox sender are optional in CLI use. */
export interface Wakers {
  notifier: Notifier;
  scheduler?: { trigger(): void } | null;
  outbox?: { wake(): void } | null;
  mailer?: { send(jobId: number): void } | null;
  liveResults?: { casesRecorded(jobId: number): void } | null;
}

/** Applies effects after the transaction committed (call it after `await db.$transaction(...)`). */
export function applyEffects(effects: Effects, w: Wakers): void {
  for (const h of effects.workers) w.notifier.wakeWorker(h);
  for (const j of effects.jobs) w.notifier.jobChanged(j);
  if (effects.schedule) w.scheduler?.trigger();
  if (effects.outbox) w.outbox?.wake();
  for (const j of effects.emails) w.mailer?.send(j);
  for (const j of effects.casesRecorded) w.liveResults?.casesRecorded(j);
}
