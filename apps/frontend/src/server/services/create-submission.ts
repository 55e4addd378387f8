import {
  QUEUE_NAMES,
  formatDefinitionErrors,
  parseJobDefinition,
  submissionJobId,
  type TSubmissionLabs,
  type TSubmissionQueueJob,
} from "@magma/protocol";
import {
  createSubmissionRecord,
  findInstanceByName,
  findSubmissionByClientRequestId,
  labsViewerMaySubmitTo,
  listInstances,
  type FrontendDb,
  type TSubmission,
  type TViewer,
} from "@magma/db/frontend";
import { AppError } from "../app-error.ts";
import { addJobOrFail } from "../queues/connections.ts";
import { describeFetchError, reachableLab } from "./instance-client.ts";
import { labClientFor } from "./lab-client-for.ts";
import { rankLabsForDeviceType } from "./place-submission.ts";

export interface CreateSubmissionOptions {
  db: FrontendDb;
  /** Generated once per form: a double-click or a retried request returns the same submission. */
  clientRequestId: string;
  definition: string;
  /** the labs to run on (one job each), or "any": one job on the best eligible lab */
  labs: TSubmissionLabs;
  /** `retry.infrastructure`: moves to another eligible lab after an Infrastructure failure, at most N times */
  retry?: { infrastructure: number };
  /** The logged-in user submitting (the labs record the job under this name). */
  viewer: TViewer;
  /** Deadline of each lab's overview request, in ms. */
  timeoutMs: number;
}

/** Enqueues one fan-out job per still-queued target (deterministic ids: re-adding is harmless). */
export async function enqueueSubmissionTargets(submission: TSubmission): Promise<void> {
  for (const t of submission.targets.filter((x) => x.status === "queued")) {
    const data: TSubmissionQueueJob = { submissionId: submission.id, targetId: t.id, lab: t.lab };
    await addJobOrFail(QUEUE_NAMES.submissions, "submit", data, submissionJobId(submission.id, t.lab));
  }
}

/**
 * Creates a cross-lab submission for a logged-in user: validates the definition (as the labs
 * will), checks that the user may submit to each chosen lab (a lab granted to one of their groups;
 * superusers: every lab), that each lab is reachable and offers the definition's device type,
 * stores the submission with one `queued` target per lab and enqueues one `magma-submissions` job
 * per target. Nothing is stored or queued when any check fails.
 * `labs: "any"`: every lab the user may submit to is asked for its overview and the one job goes to
 * the best lab offering the device type (see rankLabsForDeviceType: idle device first, then the
 * shortest queue); INVALID_REQUEST names every lab and why it was not eligible when none is.
 * A repeated `clientRequestId` of the same user returns the stored submission (its queued targets
 * are re-enqueued, which BullMQ de-duplicates by job id) and checks nothing again.
 * @throws AppError INVALID_JOB_DEFINITION (every problem with its YAML path), INVALID_REQUEST
 *   (no lab, lab lacking the device type, unreachable lab), NOT_FOUND (unknown lab), FORBIDDEN
 *   (a lab outside the user's groups, named), CONFLICT (the request id is another user's),
 *   UPSTREAM_UNAVAILABLE/503 (Redis down)
 */
export async function createSubmission({
  db,
  clientRequestId,
  definition,
  labs,
  retry,
  viewer,
  timeoutMs,
}: CreateSubmissionOptions): Promise<{ submission: TSubmission; created: boolean }> {
  const parsed = parseJobDefinition(definition);
  if (!parsed.ok) throw new AppError("INVALID_JOB_DEFINITION", { message: formatDefinitionErrors(parsed.errors) });
  const deviceType = parsed.definition.device_type;
  const unique = labs === "any" ? [] : [...new Set(labs)];
  if (labs !== "any" && !unique.length) throw new AppError("INVALID_REQUEST", { message: 'labs: choose at least one lab (or "any")' });
  const retryInfrastructure = retry?.infrastructure ?? 0;

  // the cheap path first: a retried request must not depend on the labs still answering
  const again = await findSubmissionByClientRequestId(db, clientRequestId);
  if (again && again.userId !== viewer.userId)
    throw new AppError("CONFLICT", { message: `clientRequestId "${clientRequestId}" belongs to another submission: generate a new one` });
  if (again) {
    await enqueueSubmissionTargets(again);
    return { submission: again, created: false };
  }

  const allowed = new Set(await labsViewerMaySubmitTo(db, viewer));
  if (labs === "any") {
    const mine = (await listInstances(db)).filter((i) => allowed.has(i.name));
    if (!mine.length)
      throw new AppError("FORBIDDEN", {
        message: 'labs "any": you may not submit to any lab (ask a superuser to grant one to your group)',
      });
    const { ranked, refused } = await rankLabsForDeviceType({ labs: mine, deviceType, timeoutMs });
    const best = ranked[0];
    if (!best) {
      throw new AppError("INVALID_REQUEST", {
        message: `labs "any": no lab you may use offers device type "${deviceType}" now (${refused.map((r) => `${r.lab}: ${r.reason}`).join("; ")})`,
      });
    }
    const result = await createSubmissionRecord(db, {
      clientRequestId,
      definition,
      deviceType,
      jobName: parsed.definition.job_name,
      labs: [{ id: best.instance.id, name: best.instance.name }],
      userId: viewer.userId,
      anyLab: true,
      retryInfrastructure,
    });
    await enqueueSubmissionTargets(result.submission);
    return result;
  }
  const configured = await Promise.all(unique.map(async (name) => ({ name, instance: await findInstanceByName(db, name) })));
  const unknown = configured.find((c) => !c.instance);
  if (unknown) throw new AppError("NOT_FOUND", { message: `Lab "${unknown.name}" is not configured` });
  const refused = unique.filter((name) => !allowed.has(name));
  if (refused.length) {
    throw new AppError("FORBIDDEN", {
      message: `You may not submit to lab${refused.length > 1 ? "s" : ""} ${refused.map((n) => `"${n}"`).join(", ")}: ${
        viewer.groups.length
          ? `none of your groups (${viewer.groups.join(", ")}) may use ${refused.length > 1 ? "them" : "it"}`
          : "you are in no group"
      } (ask a superuser to grant it)`,
    });
  }
  const instances = await Promise.all(
    configured.map(async ({ name, instance }) => {
      if (!instance) throw new AppError("NOT_FOUND", { message: `Lab "${name}" is not configured` });
      // an outbound-only lab cannot be asked: it checks the device type itself and refuses the job over its link
      const reachable = reachableLab(instance);
      if (!reachable) return instance;
      let types: string[];
      try {
        types = (await labClientFor(reachable).overview(timeoutMs)).device_types;
      } catch (e) {
        throw new AppError("INVALID_REQUEST", {
          message: `Lab "${name}" is unreachable (${describeFetchError(e, timeoutMs)}): cannot check its device types`,
        });
      }
      if (!types.includes(deviceType)) {
        throw new AppError("INVALID_REQUEST", {
          message: `Lab "${name}" has no device type "${deviceType}" (it offers: ${types.length ? types.join(", ") : "none"})`,
        });
      }
      return instance;
    }),
  );
  const result = await createSubmissionRecord(db, {
    clientRequestId,
    definition,
    deviceType,
    jobName: parsed.definition.job_name,
    labs: instances.map((i) => ({ id: i.id, name: i.name })),
    userId: viewer.userId,
    retryInfrastructure,
  });
  await enqueueSubmissionTargets(result.submission);
  return result;
}
