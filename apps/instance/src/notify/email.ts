import type { Transporter } from "nodemailer";
import type { TNotify } from "@magma/protocol";
import { findJob, listCasesById, type TestJob } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { criteriaMatches } from "./enqueue-callbacks.ts";

/** Whether a job's transition sends its notify emails: it has email recipients and its criteria match (LAVA's). */
export function emailsDue(job: Pick<TestJob, "state" | "health" | "notify">): boolean {
  const notify = job.notify as TNotify | null;
  return !!notify?.recipients?.some((r) => r.to.method === "email") && criteriaMatches(notify.criteria.status, job);
}

/** One mail to send: who, and the greeting's name (LAVA's `Dear <first> <last>` / `Hello`). */
interface Addressee {
  address: string;
  username?: string;
}

const fmt = (d: Date | null) =>
  d
    ? d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " (+0000 UTC)")
    : "";

/**
 * The mail body, LAVA's `testjob_notification.txt`: greeting, state/health/submitter, the job's URL;
 * once Finished and unless `status-only`, the error of an Incomplete job, device and job details;
 * with `verbose` also the metadata and every suite's test cases (with measurements).
 */
export function notificationBody(o: {
  job: NonNullable<Awaited<ReturnType<typeof findJob>>>;
  verbosity: "verbose" | "quiet" | "status-only";
  url: string;
  username?: string;
  cases: Awaited<ReturnType<typeof listCasesById>>;
}): string {
  const { job } = o;
  const lines = [o.username ? `Dear ${o.username},` : "Hello,", ""];
  lines.push(
    `The job with ID # ${job.id} is now in state ${job.state} and health ${job.health}. Job was submitted by ${job.submitter}.`,
    "",
    `Job details and log file: ${o.url}`,
  );
  if (job.state === "Finished" && o.verbosity !== "status-only") {
    lines.push("");
    if (job.health === "Incomplete" && job.failureComment) lines.push(`${job.errorType ?? "Unknown"} error: ${job.failureComment}`, "");
    if (job.actualDevice) lines.push("Device details:", `Hostname: ${job.actualDevice}`, `Type: ${job.requestedDeviceType}`, "");
    const duration = job.startTime && job.endTime ? `${Math.round((job.endTime.getTime() - job.startTime.getTime()) / 1000)} seconds` : "";
    lines.push(
      "Job details:",
      `Priority: ${job.priority}`,
      `Description: ${job.description}`,
      `Submitted: ${fmt(job.submitTime)}`,
      `Started: ${fmt(job.startTime)}`,
      `Finished: ${fmt(job.endTime)}`,
      `Duration: ${duration}`,
    );
    if (o.verbosity === "verbose") {
      lines.push("", "Metadata:", ...Object.entries(job.metadata).map(([k, v]) => `${k}: ${v}`), "", "Results:");
      const suites = [...new Set(o.cases.map((c) => c.suite))];
      for (const s of suites) {
        lines.push("", `Test Suite ${s}:`);
        for (const c of o.cases.filter((x) => x.suite === s)) {
          lines.push(`Test Case ${c.name}: ${c.result}`);
          if (c.measurement !== null) lines.push(`Measurement: ${c.measurement} ${c.units}`.trimEnd());
        }
      }
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Sends the notify emails of a job (LAVA's `send_notifications` for `method: email` recipients)
 * through the SMTP server of MAGMA_SMTP_HOST with nodemailer: subject `LAVA notification for Test Job
 * <id> <description>`, body {@link notificationBody} at the block's `verbosity` (default quiet, as
 * LAVA). `to: {email}` is mailed as given; `to: {user}` at the user's email (skipped with a warning
 * when the user has none). Fire-once after the transition commits, as LAVA: a failure is logged.
 */
export class NotifyMailer {
  /** nodemailer is loaded with the first mail, not at start (most labs never send one) */
  private transport: Promise<Transporter> | null = null;

  constructor(private readonly ctx: InstanceContext) {}

  /** Sends the job's mails in the background (never throws; see class doc). */
  send(jobId: number): void {
    void this.sendNow(jobId).catch((e: unknown) =>
      this.ctx.logger.warn({ jobId, err: (e as Error).message }, "failed to send email notification"),
    );
  }

  /**
   * Sends the job's mails now. @returns the addresses mailed
   * @throws Error from the SMTP client (the caller logs it)
   */
  async sendNow(jobId: number): Promise<string[]> {
    const smtp = this.ctx.config.smtp;
    const row = await this.ctx.db.testJob.findUnique({ where: { id: jobId }, select: { notify: true } });
    const notify = row?.notify as TNotify | null | undefined;
    const job = await findJob(this.ctx.db, jobId);
    if (!smtp || !notify?.recipients || !job) return [];
    const addressees: Addressee[] = [];
    for (const r of notify.recipients) {
      if (r.to.method !== "email") continue;
      if (r.to.email) addressees.push({ address: r.to.email });
      else if (r.to.user) {
        const u = await this.ctx.db.user.findUnique({ where: { username: r.to.user }, select: { email: true } });
        if (u?.email) addressees.push({ address: u.email, username: r.to.user });
        else this.ctx.logger.warn({ jobId, user: r.to.user }, "email notification skipped: the user has no email address");
      }
    }
    if (!addressees.length) return [];
    const cases = notify.verbosity === "verbose" ? await listCasesById(this.ctx.db, jobId) : [];
    // CommonJS: the esbuild bundle exposes it as `default` only, Node's own loader also as named exports
    this.transport ??= import("nodemailer").then((m) =>
      ((m as unknown as { default?: typeof m }).default ?? m).createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.port === 465,
      }),
    );
    const transport = await this.transport;
    const subject = `LAVA notification for Test Job ${job.id} ${job.description.slice(0, 200)}`;
    const url = `${this.ctx.config.publicUrl}/scheduler/job/${job.id}`;
    const sent: string[] = [];
    for (const a of addressees) {
      this.ctx.logger.info({ jobId, to: a.address }, "sending email notification");
      const text = notificationBody({
        job,
        verbosity: notify.verbosity ?? "quiet",
        url,
        cases,
        ...(a.username ? { username: a.username } : {}),
      });
      await transport.sendMail({ from: smtp.from, to: a.address, subject, text });
      sent.push(a.address);
    }
    return sent;
  }
}
