import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TLogRecord, TResultMessage } from "@magma/protocol";
import { runJob } from "../src/job-runner.ts";
import { buildDut, repoRoot, serveDir } from "./helpers.ts";

/**
 * A job's `secrets:` reach the DUT as LAVA's `/lava-<id>/secrets` (KEY=value lines a test sources)
 * on a real QEMU boot, and never appear in the job log.
 */

const DEVICE = "device_type: qemu\nhostname: qemu-secrets-01\nqemu:\n  machine: pc,accel=tcg\n  memory_mb: 256\n";
const SECRET = "tok-9f8e7d6c5b4a";
let server: Awaited<ReturnType<typeof serveDir>>;
let workerDir: string;

beforeAll(async () => {
  server = await serveDir(buildDut());
  workerDir = mkdtempSync(path.join(os.tmpdir(), "magma-worker-secrets-"));
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (workerDir) rmSync(workerDir, { recursive: true, force: true });
});

function job(): string {
  const demo = readFileSync(path.join(repoRoot, "infra/demo/jobs/qemu-inline-tests.yaml"), "utf8").replaceAll(
    "http://127.0.0.1:4100",
    server.url,
  );
  const steps = [
    "          - . /lava-$LAVA_JOB_ID/secrets",
    `          - lava-test-case secret-value --shell test "$API_TOKEN" = "${SECRET}"`,
    '          - lava-test-case secret-mode --shell test "$(stat -c %a /lava-$LAVA_JOB_ID/secrets)" = 600',
  ].join("\n");
  return demo
    .replace(/          steps:\n(          - .*\n)+/, `          steps:\n${steps}\n`)
    .replace("priority: medium\n", `priority: medium\nsecrets:\n  API_TOKEN: ${SECRET}\n`);
}

describe("secrets on a real DUT", () => {
  it("the test sources /lava-<id>/secrets and sees the value; the log never shows it", async () => {
    const log: TLogRecord[] = [];
    const outcome = await runJob({
      jobId: 311,
      bundle: { definition: job(), device: DEVICE },
      workerDir,
      workerName: "it-worker",
      sink: (r) => log.push(r),
    });
    const results = log.filter((r) => r.lvl === "results").map((r) => r.msg as TResultMessage);
    if (outcome.result !== "pass")
      console.error(
        log
          .slice(-40)
          .map((r) => `${r.lvl}: ${JSON.stringify(r.msg)}`)
          .join("\n"),
      );
    expect(outcome).toMatchObject({ result: "pass" });
    expect(results.find((r) => r.definition === "0_smoke" && r.case === "secret-value")?.result).toBe("pass");
    expect(results.find((r) => r.definition === "0_smoke" && r.case === "secret-mode")?.result).toBe("pass");
    // the DUT echoes it (set -x traces the sourced file and the step), the results record holds the
    // step text: every record shows [MASKED] instead, as LAVA's log does
    const all = log.map((r) => JSON.stringify(r.msg));
    expect(all.filter((l) => l.includes(SECRET))).toEqual([]);
    expect(all.some((l) => l.includes(`API_TOKEN=[MASKED]`) || l.includes(`API_TOKEN='[MASKED]'`))).toBe(true);
  }, 240_000);
});
