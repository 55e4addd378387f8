import { EventEmitter } from "node:events";
import { parse as parseYaml } from "yaml";
import { evaluateMultinode, MULTINODE_PROTOCOL, type TMultinodeRequest, type TMultinodeResponse } from "@magma/protocol";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

/** How often a waiting call re-reads the group when no local event woke it (other instance processes), ms. */
const RECHECK_MS = 1_000;

/** Wakes the waiting calls of a group in this process when one of its sub-jobs sends or syncs. */
const groupEvents = new EventEmitter().setMaxListeners(0);

export interface CoordinateOptions {
  ctx: InstanceContext;
  /** the calling sub-job (already authenticated with its job token) */
  jobId: number;
  request: TMultinodeRequest;
  /** ends a long-poll early (client gone, shutdown): the call then answers `wait` */
  signal: AbortSignal;
}

/**
 * One MultiNode coordination call, the instance's lava-coordinator: records the caller's
 * `lava_send` (its key=value pairs merged into any earlier send of the same messageID, as the
 * coordinator's dict update) or `lava_sync`, then answers with {@link evaluateMultinode} over the
 * group's records. While the answer is `wait`, re-evaluates on every send/sync of the group in this
 * process and every {@link RECHECK_MS}, for at most `request.wait_ms` (default 0: answer at once).
 * Client names are the sub-jobs' ids, as LAVA's (the keys of `roles` in each sub-job's definition).
 * @returns the answer: ack (with `message` for waits), wait or nack
 * @throws AppError INVALID_REQUEST when the job is not a MultiNode sub-job, CONFLICT when it is
 *   not running (Scheduled or Running)
 */
export async function coordinateMultinode({ ctx, jobId, request, signal }: CoordinateOptions): Promise<TMultinodeResponse> {
  const job = await ctx.db.testJob.findUnique({ where: { id: jobId }, select: { targetGroup: true, state: true } });
  if (!job?.targetGroup) throw new AppError("INVALID_REQUEST", `Job ${jobId} is not a MultiNode sub-job`);
  if (job.state !== "Scheduled" && job.state !== "Running") throw new AppError("CONFLICT", `Job ${jobId} is ${job.state}, not running`);
  const group = job.targetGroup;
  const members: Record<string, string> = {};
  for (const m of await ctx.db.testJob.findMany({ where: { targetGroup: group }, select: { id: true, definition: true } })) {
    const raw = parseYaml(m.definition) as { protocols?: Record<string, { role?: string }> };
    members[String(m.id)] = raw.protocols?.[MULTINODE_PROTOCOL]?.role ?? "";
  }
  const kind = request.request === "lava_send" ? "send" : request.request === "lava_sync" ? "sync" : undefined;
  if (kind) await record(ctx, group, kind, request.messageID, jobId, request.message ?? {});
  if (kind) groupEvents.emit(group);

  const deadline = Date.now() + (request.wait_ms ?? 0);
  for (;;) {
    const rows = await ctx.db.multinodeMessage.findMany({
      where: { targetGroup: group, messageId: request.messageID },
      select: { kind: true, jobId: true, payload: true },
      orderBy: { id: "asc" },
    });
    const senders: Record<string, Record<string, string>> = {};
    const syncers: string[] = [];
    for (const r of rows) {
      if (r.kind === "send") senders[String(r.jobId)] = r.payload as Record<string, string>;
      else syncers.push(String(r.jobId));
    }
    const answer = evaluateMultinode(request, { members, senders, syncers });
    const left = deadline - Date.now();
    if (answer.response !== "wait" || left <= 0 || signal.aborted) {
      ctx.logger.debug(
        { jobId, targetGroup: group, request: request.request, messageID: request.messageID, response: answer.response },
        "multinode call",
      );
      return answer;
    }
    await waitForGroup(group, Math.min(left, RECHECK_MS), signal);
  }
}

async function record(
  ctx: InstanceContext,
  group: string,
  kind: "send" | "sync",
  messageId: string,
  jobId: number,
  payload: Record<string, string>,
): Promise<void> {
  // one statement, so two sends of one messageID by one sub-job merge instead of racing
  await ctx.db.$executeRaw`
    INSERT INTO multinode_messages (target_group, kind, message_id, job_id, payload)
    VALUES (${group}, ${kind}, ${messageId}, ${jobId}, ${JSON.stringify(payload)}::jsonb)
    ON CONFLICT (target_group, kind, message_id, job_id)
    DO UPDATE SET payload = multinode_messages.payload || EXCLUDED.payload`;
}

function waitForGroup(group: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      groupEvents.off(group, done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    groupEvents.on(group, done);
    signal.addEventListener("abort", done, { once: true });
  });
}
