import { expect, test } from "@playwright/test";
import { getFederatedJob, submitToLab, waitFor } from "../../infra/demo/clients.ts";
import { demoJob, stackInfo } from "./stack-info.ts";

// Issue 13: a running job's test cases show on its page before it finishes (live results), and the
// lab health board draws its infrastructure-error history charts from the finished jobs.

// the board's charts need the finished job of the first test
test.describe.configure({ mode: "serial" });

let jobId = 0;

test("a running job's test cases appear on its page while it still runs", async ({ page }) => {
  const s = stackInfo();
  const labA = s.labs.find((l) => l.name === "lab-a")!;
  // the inline tests job, its second suite waiting 30 s before its case: the first suite's cases are
  // recorded while the job still runs (no build metadata: this job belongs to no build)
  const definition = demoJob("qemu-inline-tests.yaml", s.artifactsUrl, (y) =>
    y
      .replace("- echo hello-from-second-suite", "- sleep 30")
      .replace("kernel.tree:", "e2e.tree:")
      .replace("job_name: magma demo qemu inline tests", "job_name: live results e2e"),
  );
  jobId = await submitToLab(labA.url, s.adminToken, definition);
  await page.goto(`${s.frontendUrl}/jobs/lab-a/${jobId}`);
  // the page refetches a running job every 2 s: cases and the Running badge seen together
  await expect
    .poll(
      async () => {
        const rows = await page.getByTestId("testcase-row").count();
        const head =
          (await page
            .locator(".job-head")
            .textContent()
            .catch(() => "")) ?? "";
        return rows > 0 && head.includes("Running");
      },
      { timeout: 8 * 60_000, intervals: [1000] },
    )
    .toBe(true);
  await expect(page.getByText("(so far, live)")).toBeVisible();
  const job = await waitFor(
    `lab-a#${jobId} Finished in the frontend`,
    8 * 60_000,
    async () => {
      const j = await getFederatedJob(s.frontendUrl, "lab-a", jobId);
      return j && j.state === "Finished" ? j : undefined;
    },
    1000,
  );
  expect(job.health).toBe("Complete");
  await expect(page.locator(".job-head")).toContainText("Finished", { timeout: 30_000 });
  // every case once, live pushes and the Finished callback together
  await expect(page.getByRole("cell", { name: "second-ok", exact: true })).toBeVisible();
  const onLab = (await (
    await fetch(`${labA.url}/api/v0.2/jobs/${jobId}/tests/?limit=1`, { headers: { authorization: `Token ${s.adminToken}` } })
  ).json()) as { count: number };
  expect(onLab.count).toBeGreaterThan(8);
  expect((job.suites ?? []).reduce((n, x) => n + x.tests.length, 0)).toBe(onLab.count);
  await expect(page.getByTestId("testcase-row")).toHaveCount(onLab.count);
});

test("the lab health board shows each lab and draws the history charts per lab and per device type", async ({ page }) => {
  const s = stackInfo();
  expect(jobId).toBeGreaterThan(0);
  await page.goto(`${s.frontendUrl}/labs/health`);
  const table = page.getByTestId("lab-health-table");
  await expect(table).toBeVisible();
  for (const lab of s.labs) await expect(page.getByLabel(`${lab.name} status`).locator(".badge")).toHaveText("reachable");
  await expect(page.getByLabel("lab-a workers online")).toContainText("lab-a-worker");
  // the finished job above is in the last 7 days: one line per lab / device type that ran jobs
  for (const chart of ["lab-health-chart", "device-type-health-chart"]) {
    const c = page.getByTestId(chart);
    await expect(c).toBeVisible();
    await expect(c.locator("svg .recharts-line").first()).toBeAttached();
  }
  await expect(page.getByTestId("device-type-health-row").filter({ hasText: "qemu" })).toBeVisible();
  await page.screenshot({ path: "test-results/lab-health-board.png", fullPage: true });
});
