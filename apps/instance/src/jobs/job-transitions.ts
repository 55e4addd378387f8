import { parse as parseYaml } from "yaml";
import { MULTINODE_PROTOCOL } from "@magma/protocol";
import type { InstanceTx, TestJob, JobHealth } from "@magma/db/instance";
import type { Effects } from "../effects.ts";
import { enqueueCallbacks } from "../notify/enqueue-callbacks.ts";
import { emailsDue } from "../notify/email.ts";
import { lockJob } from "./lock-job.ts";

/** What every transition needs besides the transaction: the callback settings and the effects sink. */
export interface TransitionContext {
  tx: InstanceTx;
  effects: Effects;
  instanceName: string;
  federation: { url: string } | null;
}

/** Result of a transition: `changed` false means the job was already at or past the target state. */
export interface TransitionResult {
  changed: boolean;
  job: TestJob;
}

const ORDER = ["Submitted", "Scheduling", "Scheduled", "Running", "Canceling", "Finished"] as const;
const atOrPast = (state: TestJob["state"], target: TestJob["state"]) => ORDER.indexOf(state) >= ORDER.indexOf(target);

async function workerOf(tx: InstanceTx, deviceId: number | null): Promise<string | null> {
  if (deviceId === null) return null;
  const d = await tx.device.findUnique({ where: { id: deviceId }, select: { worker: { select: { hostname: true } } } });
  return d?.worker?.hostname ?? null;
}

/**
 * Scheduled → Running, as LAVA's `TestJob.go_state_running`: start_time = now, device Reserved →
 * Running, Running callbacks enqueued in the same transaction. Idempotent: a job already Running,
 * Canceling or Finished (or never scheduled) is returned unchanged.
 */
export async function goStateRunning(ctx: TransitionContext, jobId: number): Promise<TransitionResult> {
  const { tx } = ctx;
  const job = await lockJob(tx, jobId);
  if (job.state !== "Scheduled") return { changed: false, job };
  const updated = await tx.testJob.update({ where: { id: jobId }, data: { state: "Running", startTime: new Date() } });
  if (job.actualDeviceId !== null) {
    await tx.device.updateMany({ where: { id: job.actualDeviceId, state: "Reserved" }, data: { state: "Running" } });
  }
  if (await enqueueCallbacks({ tx, job: updated, instanceName: ctx.instanceName, federation: ctx.federation })) ctx.effects.wakeOutbox();
  if (emailsDue(updated)) ctx.effects.sendEmails(jobId);
  ctx.effects.jobChanged(jobId);
  return { changed: true, job: updated };
}

export interface FinishOptions {
  /** Complete | Incomplete | Canceled (never Unknown) */
  health: Exclude<JobHealth, "Unknown">;
  errorType?: string | null;
  failureComment?: string | null;
  /** the worker classified the failure as Infrastructure/Bug/Configuration (device health → Unknown) */
  infrastructureError?: boolean;
}

/** Whether a MultiNode sub-job's role is `essential: true` (its failure ends the group, as in LAVA). */
function essentialRole(definition: string): boolean {
  try {
    const raw = parseYaml(definition) as { protocols?: Record<string, { essential?: unknown }> };
    return raw.protocols?.[MULTINODE_PROTOCOL]?.essential === true;
  } catch {
    return false;
  }
}

/**
 * → Finished, as LAVA's `TestJob.go_state_finished`: a Canceling job becomes Canceled whatever the
 * result; start_time defaults to now if it never ran; end_time = now; the device goes Idle and its
 * health follows the job (health check Complete → Good, failed → Bad, Looping stays; an
 * infrastructure error on a normal job → Unknown). Finished callbacks are enqueued in the same
 * transaction and the scheduler is asked for a pass after commit. Idempotent: a Finished job is
 * returned unchanged, so a FINISHED re-sent by the worker is acknowledged without a second transition.
 * A MultiNode sub-job of an `essential` role ending Incomplete cancels the other sub-jobs of its group.
 */
export async function goStateFinished(ctx: TransitionContext, jobId: number, opts: FinishOptions): Promise<TransitionResult> {
  const { tx } = ctx;
  const job = await lockJob(tx, jobId);
  if (job.state === "Finished") return { changed: false, job };
  const now = new Date();
  const health: JobHealth = job.state === "Canceling" ? "Canceled" : opts.health;
  const updated = await tx.testJob.update({
    where: { id: jobId },
    data: {
      state: "Finished",
      health,
      startTime: job.startTime ?? now,
      endTime: now,
      errorType: opts.errorType || (health === "Canceled" && job.state === "Canceling" ? "Canceled" : null),
      failureComment: opts.failureComment || null,
    },
  });
  if (job.actualDeviceId !== null) {
    const device = await tx.device.findUnique({ where: { id: job.actualDeviceId } });
    if (device) {
      let deviceHealth = device.health;
      if (job.healthCheck) {
        if (device.health !== "Looping" && ["Good", "Unknown", "Bad"].includes(device.health)) {
          deviceHealth = health === "Complete" ? "Good" : "Bad";
        }
      } else if (opts.infrastructureError && (device.health === "Good" || device.health === "Unknown")) {
        deviceHealth = "Unknown";
      }
      await tx.device.update({
        where: { id: device.id },
        data: {
          state: device.currentJobId === jobId || device.currentJobId === null ? "Idle" : device.state,
          currentJobId: device.currentJobId === jobId ? null : device.currentJobId,
          health: deviceHealth,
          ...(job.healthCheck ? { lastHealthReportJobId: jobId } : {}),
        },
      });
    }
  }
  if (await enqueueCallbacks({ tx, job: updated, instanceName: ctx.instanceName, federation: ctx.federation })) ctx.effects.wakeOutbox();
  if (emailsDue(updated)) ctx.effects.sendEmails(jobId);
  ctx.effects.jobChanged(jobId).requestSchedule();
  // MultiNode: an essential role's sub-job ending Incomplete cancels the rest of its group (LAVA's go_state_finished)
  if (health === "Incomplete" && job.targetGroup && essentialRole(job.definition)) {
    const others = await tx.testJob.findMany({ where: { targetGroup: job.targetGroup, id: { not: jobId } }, select: { id: true } });
    for (const o of others) await goStateCanceling(ctx, o.id);
  }
  return { changed: true, job: updated };
}

/**
 * Cancel, as LAVA's `go_state_canceling`: a Submitted job goes straight to Finished/Canceled (no
 * device touched); a Scheduled or Running job becomes Canceling and its worker is woken so the next
 * ping answer lists it in `cancel`; the federation callback of Canceling is enqueued in the same
 * transaction. Canceling/Finished jobs are returned unchanged.
 */
export async function goStateCanceling(ctx: TransitionContext, jobId: number): Promise<TransitionResult> {
  const job = await lockJob(ctx.tx, jobId);
  if (job.state === "Submitted" || job.state === "Scheduling") {
    return goStateFinished(ctx, jobId, { health: "Canceled", errorType: "Canceled" });
  }
  if (atOrPast(job.state, "Canceling")) return { changed: false, job };
  const updated = await ctx.tx.testJob.update({ where: { id: jobId }, data: { state: "Canceling" } });
  if (await enqueueCallbacks({ tx: ctx.tx, job: updated, instanceName: ctx.instanceName, federation: ctx.federation }))
    ctx.effects.wakeOutbox();
  ctx.effects.wakeWorker(await workerOf(ctx.tx, job.actualDeviceId)).jobChanged(jobId);
  return { changed: true, job: updated };
}
