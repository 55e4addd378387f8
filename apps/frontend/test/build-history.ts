import type { TNotifyPayload } from "@magma/protocol";
import { stringify } from "yaml";
import { notifyPayload } from "./helpers.ts";

/**
 * A synthetic kernel-testing history over two labs (lab-a, lab-b) and five commits of
 * mainline/master, as LAVA notify callbacks carrying KernelCI's metadata keys. Every expectation of
 * the builds/regressions tests is written next to the data that makes it:
 *
 * | test (suite 0_smoke) | c1        | c2                 | c3              | c4   | c5   |
 * |----------------------|-----------|--------------------|-----------------|------|------|
 * | code-break           | a P, b P  | a F, b F (code)    | a F, b F        | –    | –    |
 * | lab-break            | a P, b P  | a F (lab), b P     | a F, b P        | –    | –    |
 * | fixed                | a F, b F  | a F, b F           | a P, b P (fix, code) | – | – |
 * | flaky                | a P, b P  | a P+F (flaky), b P | a P, b P        | –    | –    |
 * | lab-a-only           | a P       | a F (unknown)      | –               | –    | –    |
 * | late                 | a P       | a F ← arrives last | a F             | –    | –    |
 * | infra                | b P       | b F in an Incomplete/Infrastructure job only | b P | – | – |
 * | set case (`boot` set `s1`) | a P, b P | a P, b P    | a F, b F (code) | –    | –    |
 *
 * c4 and c5 only carry a `b`-lab job with `code-break` failing and passing (c5: a fix on lab-b only,
 * `unknown` since lab-a did not run c4/c5), which checks "previous build that ran it" per lab.
 */
export type TCase = [suite: string, name: string, result: "pass" | "fail" | "skip", set?: string];

export interface THistoryJob {
  lab: "lab-a" | "lab-b";
  id: number;
  commit: number;
  cases: TCase[];
  infra?: boolean;
  /** Delivered last (a late job of an older build). */
  late?: boolean;
}

const P = "pass" as const;
const F = "fail" as const;

/** The jobs of the history, in commit order. */
export function historyJobs(): THistoryJob[] {
  return [
    {
      lab: "lab-a",
      id: 101,
      commit: 1,
      cases: [
        ["0_smoke", "code-break", P],
        ["0_smoke", "lab-break", P],
        ["0_smoke", "fixed", F],
        ["0_smoke", "flaky", P],
        ["0_smoke", "lab-a-only", P],
        ["0_smoke", "late", P],
        ["1_boot", "mount", P, "s1"],
      ],
    },
    {
      lab: "lab-b",
      id: 201,
      commit: 1,
      cases: [
        ["0_smoke", "code-break", P],
        ["0_smoke", "lab-break", P],
        ["0_smoke", "fixed", F],
        ["0_smoke", "flaky", P],
        ["0_smoke", "infra", P],
        ["1_boot", "mount", P, "s1"],
      ],
    },
    {
      lab: "lab-a",
      id: 102,
      commit: 2,
      cases: [
        ["0_smoke", "code-break", F],
        ["0_smoke", "lab-break", F],
        ["0_smoke", "fixed", F],
        ["0_smoke", "flaky", P],
        ["0_smoke", "lab-a-only", F],
        ["1_boot", "mount", P, "s1"],
      ],
    },
    { lab: "lab-a", id: 103, commit: 2, cases: [["0_smoke", "flaky", F]] },
    { lab: "lab-a", id: 104, commit: 2, cases: [["0_smoke", "late", F]], late: true },
    {
      lab: "lab-b",
      id: 202,
      commit: 2,
      cases: [
        ["0_smoke", "code-break", F],
        ["0_smoke", "lab-break", P],
        ["0_smoke", "fixed", F],
        ["0_smoke", "flaky", P],
        ["1_boot", "mount", P, "s1"],
      ],
    },
    { lab: "lab-b", id: 203, commit: 2, cases: [["0_smoke", "infra", F]], infra: true },
    {
      lab: "lab-a",
      id: 105,
      commit: 3,
      cases: [
        ["0_smoke", "code-break", F],
        ["0_smoke", "lab-break", F],
        ["0_smoke", "fixed", P],
        ["0_smoke", "flaky", P],
        ["0_smoke", "late", F],
        ["1_boot", "mount", F, "s1"],
      ],
    },
    {
      lab: "lab-b",
      id: 204,
      commit: 3,
      cases: [
        ["0_smoke", "code-break", F],
        ["0_smoke", "lab-break", P],
        ["0_smoke", "fixed", P],
        ["0_smoke", "flaky", P],
        ["0_smoke", "infra", P],
        ["1_boot", "mount", F, "s1"],
      ],
    },
    { lab: "lab-b", id: 205, commit: 4, cases: [["0_smoke", "code-break", F]] },
    { lab: "lab-b", id: 206, commit: 5, cases: [["0_smoke", "code-break", P]] },
  ];
}

export const commitSha = (n: number) => `${n}`.repeat(8) + "0".repeat(32);

/**
 * The notify payload of one history job on `tree` (submit time: the commit's hour, so builds order
 * by commit); `idOffset` is added to the job and case ids so several trees can hold the same history.
 */
export function historyPayload(job: THistoryJob, tree = "mainline", idOffset = 0): TNotifyPayload {
  const j = { ...job, id: job.id + idOffset };
  const bySuite = new Map<string, object[]>();
  j.cases.forEach(([suite, name, result, set], i) => {
    const list = bySuite.get(suite) ?? [];
    // log_start_line as LAVA exports it: text; case i was recorded on log line 40 + i
    list.push({
      id: String(j.id * 1000 + i),
      job: String(j.id),
      name,
      suite,
      result,
      measurement: "None",
      unit: "",
      log_start_line: String(40 + i),
      metadata: set ? { set } : {},
    });
    bySuite.set(suite, list);
  });
  const submit = `2026-11-2${j.commit} 0${j.commit}:00:00.000000+00:00`;
  return notifyPayload({
    id: j.id,
    submit_time: submit,
    start_time: submit,
    end_time: submit,
    health: j.infra ? 2 : 1,
    health_string: j.infra ? "Incomplete" : "Complete",
    failure_comment: j.infra ? "tftp timed out" : null,
    metadata: {
      "kernel.tree": tree,
      "git.branch": "master",
      "git.commit": commitSha(j.commit),
      "git.url": "https://git.kernel.org/torvalds/linux.git",
      "kernel.version": `6.${j.commit}.0`,
    },
    results: {
      lava: `- id: '${j.id * 1000 + 999}'\n  job: '${j.id}'\n  name: job\n  suite: lava\n  result: ${j.infra ? "fail" : "pass"}\n  measurement: None\n  unit: ''\n`,
      ...Object.fromEntries([...bySuite].map(([s, l]) => [s, stringify(l)])),
    },
    magma: { instance: j.lab, device_type: "qemu", error_type: j.infra ? "Infrastructure" : null, health_check: false },
  });
}
