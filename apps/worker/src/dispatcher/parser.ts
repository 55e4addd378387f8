import type { TDeviceDictionary, TJobDefinition } from "@magma/protocol";
import type { Action } from "./action.ts";
import { BootQemuRetry } from "./actions/boot/qemu.ts";
import { MinimalBootAction } from "./actions/boot/minimal.ts";
import { UBootAction } from "./actions/boot/u-boot.ts";
import { DeployImagesAction } from "./actions/deploy/tmpfs.ts";
import { TftpDeployAction } from "./actions/deploy/tftp.ts";
import { FinalizeAction } from "./actions/finalize.ts";
import { TestShellRetry } from "./actions/test/shell.ts";
import type { OverlayStage } from "./overlay.ts";
import { Pipeline } from "./pipeline.ts";
import { hasPowerControl } from "./power.ts";

/**
 * The test definitions of each test action of a job, in job order, with LAVA's global
 * `<index>_<name>` numbering (index counts definitions over all test actions) and uuids
 * `<job id>_<stage>.<n>` (n from 1 within the stage), as LAVA's overlay stages.
 */
export function planTestStages(jobId: number, definition: TJobDefinition): OverlayStage[] {
  const stages: OverlayStage[] = [];
  let index = 0;
  for (const a of definition.actions) {
    if (!("test" in a)) continue;
    const stage = stages.length;
    stages.push({ stage, definitions: a.test.definitions.map((ref, i) => ({ index: index++, ref, uuid: `${jobId}_${stage}.${i + 1}` })) });
  }
  return stages;
}

/**
 * The pipeline of a parsed job definition (LAVA's `JobParser.parse`): one top-level action per job
 * action — `deploy: to: tmpfs` → deployimages, `to: tftp` → tftp-deploy; `boot: method: qemu` →
 * boot-image-retry, `u-boot` → uboot-action, `minimal` → minimal-boot (with compress-overlay and
 * overlay-unpack when the boot has `transfer_overlay`); `test` → lava-test-retry — then finalize.
 * Levels (1, 1.1 …) and timeouts are assigned as actions are added (see {@link Pipeline.add}).
 * `device` decides whether a minimal boot resets the device (it has power commands); without one
 * no reset is planned. Never throws for a definition `parseJobDefinition` accepted.
 */
export function buildPipeline(jobId: number, definition: TJobDefinition, device?: TDeviceDictionary): Pipeline {
  const pipeline = new Pipeline();
  const stages = planTestStages(jobId, definition);
  let stage = 0;
  const powered = !!device && hasPowerControl({ device });
  for (const a of definition.actions) {
    let action: Action;
    if ("deploy" in a) action = a.deploy.to === "tftp" ? new TftpDeployAction(a.deploy, stages) : new DeployImagesAction(a.deploy, stages);
    else if ("boot" in a) {
      const b = a.boot;
      action =
        b.method === "u-boot"
          ? new UBootAction(b, stages)
          : b.method === "minimal"
            ? new MinimalBootAction(b, powered, stages)
            : new BootQemuRetry(b);
    } else action = new TestShellRetry(a.test, stages[stage++]!);
    pipeline.add(action, definition.timeouts);
  }
  pipeline.add(new FinalizeAction(), definition.timeouts);
  return pipeline;
}
