import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import type { JobContext } from "../../job.ts";
import { buildOverlay, deviceEnvironment, jobEnvironment, type OverlayOptions, type OverlayStage } from "../../overlay.ts";
import { DEFAULT_MAX_DOWNLOAD_BYTES } from "../../confine.ts";
import { fetchTestDefinitions } from "./test-definitions.ts";
import { multinodeOverlay } from "../../multinode-helpers.ts";

/**
 * What a job's overlay is built from (the cpio of {@link LavaOverlayAction}, the tarball of
 * compress-overlay): fetches the stages' `from: git`/`from: url` definitions first (capped by the
 * job's maxDownloadBytes), then the job id, the stages, the environment (the job's, the device's
 * names, `LAVA_DISPATCHER_IP`), the job's secrets and its MultiNode role and group.
 * @param o.dispatcherIp the address DUTs reach the worker at, exported as LAVA_DISPATCHER_IP
 * @throws as fetchTestDefinitions (a definition that cannot be fetched)
 */
export async function prepareOverlay(
  ctx: JobContext,
  stages: OverlayStage[],
  o: { deadlineMs: number; signal: AbortSignal; dispatcherIp: string },
): Promise<OverlayOptions> {
  await fetchTestDefinitions(stages, ctx.jobDir, {
    log: ctx.log,
    deadlineMs: o.deadlineMs,
    signal: o.signal,
    maxDownloadBytes: ctx.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
  });
  const multinode = multinodeOverlay(ctx.definition);
  return {
    jobId: ctx.jobId,
    stages,
    environment: { ...jobEnvironment(ctx.definition.environment), ...deviceEnvironment(ctx.device), LAVA_DISPATCHER_IP: o.dispatcherIp },
    ...(ctx.definition.secrets ? { secrets: ctx.definition.secrets } : {}),
    ...(multinode ? { multinode } : {}),
  };
}

/**
 * Builds the job's test overlay (LAVA's `lava-overlay`): every test action's definitions with the
 * LAVA helpers, as a gzip'd newc cpio in `<jobDir>/overlay.cpio.gz`.
 */
export class LavaOverlayAction extends Action {
  static readonly name = "lava-overlay";
  static readonly description = "add lava scripts during deployment for test shell use";
  static readonly summary = "overlay the lava support scripts";

  constructor(private readonly stages: OverlayStage[]) {
    super();
  }

  async run({ ctx, connection, deadlineMs, signal }: ActionRunOptions): Promise<Connection> {
    const options = await prepareOverlay(ctx, this.stages, { deadlineMs, signal, dispatcherIp: "127.0.0.1" });
    const { multinode } = options;
    if (multinode) ctx.log.debug(`lava-multinode: role ${multinode.role}, group ${JSON.stringify(multinode.roles)}`);
    const overlay = buildOverlay(options);
    const file = path.join(ctx.jobDir, "overlay.cpio.gz");
    await writeFile(file, overlay);
    ctx.log.debug(`Preparing overlay in ${file}`);
    ctx.log.debug("LAVA metadata");
    ctx.log.debug(`- LAVA_JOB_ID=${ctx.jobId}`);
    for (const s of this.stages) {
      ctx.log.debug(`Using lava-test-runner path: /lava-${ctx.jobId}/${s.stage} for stage ${s.stage}`);
      for (const d of s.definitions) ctx.log.debug(`- ${d.index}_${d.ref.name}`);
    }
    ctx.overlayPath = file;
    this.results = { size: overlay.length };
    return connection;
  }
}
