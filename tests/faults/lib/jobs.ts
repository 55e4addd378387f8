/** Job definitions for the fault suite: the demo's QEMU job shape, with a test body of our choice. */
import { stringify } from "yaml";

export interface FaultJobOptions {
  artifactsUrl: string;
  name: string;
  /** shell steps of the one inline test definition */
  steps: string[];
  /** job timeout, seconds */
  jobTimeoutS?: number;
  /** test action timeout, seconds */
  testTimeoutS?: number;
  metadata?: Record<string, string>;
}

/** A QEMU job (deploy tmpfs, boot qemu, one inline test definition named `faults`). */
export function faultJob(o: FaultJobOptions): string {
  return stringify({
    device_type: "qemu",
    job_name: o.name,
    timeouts: { job: { seconds: o.jobTimeoutS ?? 600 }, action: { minutes: 5 }, connection: { minutes: 2 } },
    priority: "medium",
    visibility: "public",
    metadata: o.metadata ?? { "faults.suite": "issue-5" },
    actions: [
      {
        deploy: {
          timeout: { minutes: 3 },
          to: "tmpfs",
          os: "oe",
          images: {
            kernel: { image_arg: '-kernel {kernel} -append "console=ttyS0,115200 quiet"', url: `${o.artifactsUrl}/vmlinuz` },
            initrd: { image_arg: "-initrd {initrd}", url: `${o.artifactsUrl}/initramfs.cpio.gz` },
          },
        },
      },
      { boot: { timeout: { minutes: 3 }, method: "qemu", media: "tmpfs", prompts: ["magma-dut:/# "] } },
      {
        test: {
          timeout: { seconds: o.testTimeoutS ?? 300 },
          definitions: [
            {
              repository: {
                metadata: { format: "Lava-Test Test Definition 1.0", name: "faults", description: "fault suite" },
                run: { steps: o.steps },
              },
              from: "inline",
              name: "faults",
              path: "inline/faults.yaml",
            },
          ],
        },
      },
    ],
  });
}

/** `n` test cases, one per `intervalS` seconds, each after a log line: a job that runs long enough to be hit. */
export function tickSteps(n: number, intervalS = 1): string[] {
  return [
    `for i in $(seq 1 ${n}); do echo "tick $i of ${n}"; lava-test-case tick-$i --result pass; sleep ${intervalS}; done`,
    "lava-test-case done --result pass",
  ];
}

/** A short job: three cases. */
export function quickSteps(): string[] {
  return [
    "lava-test-case quick-pass --result pass",
    "lava-test-case quick-fail --shell false",
    "lava-test-case quick-measure --result pass --measurement 2.5 --units seconds",
  ];
}
