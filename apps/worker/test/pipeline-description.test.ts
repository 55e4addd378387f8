/**
 * Golden pipeline descriptions, one per kind of job the worker runs (LAVA keeps the same contract
 * in lava_dispatcher's pipeline reference files): each `golden/<case>.job.yaml` is parsed as the
 * worker parses a job bundle, built into its pipeline on the device of `golden/<device>.device.yaml`,
 * and the pipeline's description — every action with its LAVA level, name and timeout — must equal
 * `golden/<case>.pipeline.txt` line for line. A change to the pipeline's shape (an action added,
 * renamed, moved, a timeout resolved differently) shows up as a diff of that file.
 *
 * After an intended change, rewrite the files with `MAGMA_UPDATE_GOLDEN=1 npx vitest run --root
 * apps/worker test/pipeline-description.test.ts` and review the diff before committing it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseJobDefinition, ZDeviceDictionary } from "@magma/protocol";
import { buildPipeline } from "../src/dispatcher/parser.ts";
import type { Action } from "../src/dispatcher/action.ts";
import type { Pipeline } from "../src/dispatcher/pipeline.ts";
import { RetryAction } from "../src/dispatcher/retry-action.ts";

const GOLDEN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");
const UPDATE = process.env.MAGMA_UPDATE_GOLDEN === "1";
const JOB_ID = 42;

/** Each kind of job: boot method × deploy, with and without test actions and transfer_overlay. */
const CASES: { name: string; device: string }[] = [
  { name: "qemu-tmpfs", device: "qemu" },
  { name: "qemu-tmpfs-tests", device: "qemu" },
  { name: "uboot-tftp", device: "bbb" },
  { name: "uboot-tftp-tests", device: "bbb" },
  { name: "uboot-transfer-overlay", device: "bbb" },
  { name: "minimal", device: "ser2net" },
  { name: "minimal-transfer-overlay-tests", device: "ser2net-powered" },
];

/** Every action of a pipeline, depth first (the order of {@link Pipeline.describe}). */
function flatten(pipeline: Pipeline): Action[] {
  return pipeline.actions.flatMap((a) => [a, ...(a.pipeline ? flatten(a.pipeline) : [])]);
}

/**
 * The text of a pipeline's description: a header naming the job and device files, then one line
 * per action of {@link Pipeline.describe} (what the instance stores as the job's description),
 * depth first, indented two spaces per level: `<level> <name> (timeout <seconds>s)`, plus
 * `, max_retries <n>` on a retry action (LAVA's `max_retries`, the job's `failure_retry`).
 */
function describePipeline(pipeline: Pipeline, job: string, device: string): string {
  const lines = [`# pipeline of ${job}.job.yaml on ${device}.device.yaml: level, action, timeout, retries`];
  const actions = flatten(pipeline);
  for (const [i, a] of pipeline.describe().entries()) {
    const action = actions[i]!;
    expect(action.level).toBe(a.level);
    const retries = action instanceof RetryAction ? `, max_retries ${action.maxAttempts}` : "";
    lines.push(`${"  ".repeat(a.level.split(".").length - 1)}${a.level} ${a.name} (timeout ${a.timeout}s${retries})`);
  }
  return `${lines.join("\n")}\n`;
}

function build(name: string, device: string): Pipeline {
  const parsed = parseJobDefinition(readFileSync(path.join(GOLDEN_DIR, `${name}.job.yaml`), "utf8"));
  if (!parsed.ok) throw new Error(`${name}.job.yaml is not a valid job definition: ${JSON.stringify(parsed.errors)}`);
  const dict = ZDeviceDictionary.parse(parseYaml(readFileSync(path.join(GOLDEN_DIR, `${device}.device.yaml`), "utf8")));
  return buildPipeline(JOB_ID, parsed.definition, dict);
}

describe("golden pipeline descriptions", () => {
  for (const { name, device } of CASES) {
    it(`${name}: the pipeline matches golden/${name}.pipeline.txt`, () => {
      const actual = describePipeline(build(name, device), name, device);
      const file = path.join(GOLDEN_DIR, `${name}.pipeline.txt`);
      if (UPDATE) writeFileSync(file, actual);
      expect(existsSync(file), `golden/${name}.pipeline.txt is missing: write it with MAGMA_UPDATE_GOLDEN=1`).toBe(true);
      expect(actual).toBe(readFileSync(file, "utf8"));
    });
  }

  it("every job file in golden/ has its case (none is left unchecked)", () => {
    const jobs = readdirJobs();
    expect(jobs).toEqual(CASES.map((c) => c.name).sort());
  });
});

function readdirJobs(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith(".job.yaml"))
    .map((f) => f.slice(0, -".job.yaml".length))
    .sort();
}
