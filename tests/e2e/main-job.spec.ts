import { expect, test } from "@playwright/test";
import { getFederatedJob, submitToLab, waitFor, type FederatedJobView } from "../../infra/demo/clients.ts";
import { demoJob, stackInfo } from "./stack-info.ts";

/** The results the inline-tests job must produce on a real QEMU boot (suite.case → result). */
const EXPECTED: Record<string, string> = {
  "0_smoke.always-pass": "pass",
  "0_smoke.always-fail": "fail",
  "0_smoke.explicit-skip": "skip",
  "0_smoke.boot-time": "pass",
  "0_smoke.loopback-up": "pass",
  "0_smoke.kernel-version": "pass",
  "1_second.second-ok": "pass",
  "lava.job": "pass",
};

function flatten(
  job: FederatedJobView,
): Map<string, { result: string; measurement: string | null; unit: string | null; set: string | null }> {
  const m = new Map<string, { result: string; measurement: string | null; unit: string | null; set: string | null }>();
  for (const s of job.suites ?? []) {
    for (const t of s.tests)
      m.set(`${s.name}.${t.name}`, {
        result: t.result,
        measurement: t.measurement,
        unit: t.unit ?? t.units ?? null,
        set: t.test_set ?? null,
      });
  }
  return m;
}

function expectInlineResults(job: FederatedJobView): void {
  expect(job.state).toBe("Finished");
  expect(job.health).toBe("Complete");
  const cases = flatten(job);
  for (const [name, result] of Object.entries(EXPECTED)) expect(cases.get(name)?.result, name).toBe(result);
  const bootTime = cases.get("0_smoke.boot-time");
  expect(Number(bootTime?.measurement)).toBeCloseTo(1.83, 5);
  expect(bootTime?.unit).toBe("seconds");
  expect(cases.get("0_smoke.loopback-up")?.set).toBe("network");
}

const finished = (frontendUrl: string, lab: string, id: number, token?: string) =>
  waitFor(
    `${lab}#${id} Finished in the frontend`,
    8 * 60_000,
    async () => {
      const j = await getFederatedJob(frontendUrl, lab, id, token);
      return j && j.state === "Finished" ? j : undefined;
    },
    1000,
  );

test("a job submitted with curl to lab-a's REST API boots a real kernel and its results reach the frontend", async () => {
  const s = stackInfo();
  const labA = s.labs.find((l) => l.name === "lab-a")!;
  const id = await submitToLab(labA.url, s.adminToken, demoJob("qemu-inline-tests.yaml", s.artifactsUrl));
  const job = await finished(s.frontendUrl, "lab-a", id);
  expectInlineResults(job);
});

test("the cross-lab form submits one job to both labs and shows both labs' results", async ({ page }) => {
  const s = stackInfo();
  const definition = demoJob("qemu-inline-tests.yaml", s.artifactsUrl, (y) =>
    y.replace("job_name: magma demo qemu inline tests", "job_name: e2e form fan-out"),
  );

  // submitting needs an account: the form tells an anonymous visitor so, then log in on /login
  await page.goto(`${s.frontendUrl}/submit`);
  await expect(page.getByTestId("login-needed")).toBeVisible();
  await page.goto(`${s.frontendUrl}/login?next=/submit`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Invalid username or password");
  await page.getByLabel("Password").fill(s.adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/submit$/);
  await expect(page.getByTestId("nav-username")).toHaveText("admin");
  await expect(page.getByTestId("login-needed")).toHaveCount(0);
  // a superuser sees the accounts the stack seeded on /admin
  await page.goto(`${s.frontendUrl}/admin`);
  await expect(page.getByTestId("admin-users")).toContainText("alice");
  await expect(page.getByTestId("admin-groups")).toContainText("team-a");
  await page.screenshot({ path: "test-results/admin.png", fullPage: true });
  await page.goto(`${s.frontendUrl}/submit`);

  const editor = page.getByRole("textbox", { name: /definition/i });
  await editor.fill(definition);
  // only labs that have the definition's device type are offered: both labs have `qemu`
  for (const lab of ["lab-a", "lab-b"]) await page.getByRole("checkbox", { name: new RegExp(lab) }).check();
  await page.screenshot({ path: "test-results/submit-form.png", fullPage: true });
  await page.getByRole("button", { name: /submit/i }).click();

  await expect(page).toHaveURL(/\/submissions\//);
  const ids: Record<string, number> = {};
  for (const lab of ["lab-a", "lab-b"]) {
    const target = page.getByTestId(`target-${lab}`);
    await expect(target).toContainText(/submitted/i, { timeout: 60_000 });
    const link = target.getByRole("link");
    const href = await link.getAttribute("href");
    const m = href?.match(/\/jobs\/([^/]+)\/(\d+)/);
    expect(m, `target ${lab} links to its job`).toBeTruthy();
    ids[lab] = Number(m![2]);
  }
  await page.screenshot({ path: "test-results/submission.png", fullPage: true });

  for (const lab of ["lab-a", "lab-b"]) {
    const job = await finished(s.frontendUrl, lab, ids[lab]!);
    expectInlineResults(job);
    await page.goto(`${s.frontendUrl}/jobs/${lab}/${ids[lab]}`);
    await expect(page.getByTestId("job-health")).toHaveText(/Complete/);
    await expect(page.getByTestId("testcase-row").filter({ hasText: "always-fail" })).toContainText(/fail/);
    await expect(page.getByTestId("testcase-row").filter({ hasText: "boot-time" })).toContainText("1.83");
    await page.screenshot({ path: `test-results/job-${lab}.png`, fullPage: true });
  }

  // the federated list shows the fan-out job once per lab
  await page.goto(`${s.frontendUrl}/jobs`);
  await expect(page.getByTestId("job-row").filter({ hasText: "e2e form fan-out" })).toHaveCount(2);
  await page.screenshot({ path: "test-results/jobs.png", fullPage: true });
  await page.goto(`${s.frontendUrl}/`);
  await expect(page.getByTestId("lab-row")).toHaveCount(2);
  await page.screenshot({ path: "test-results/labs.png", fullPage: true });
});

test("a personal job is the submitter's: 404 to anonymous readers and to another user, on the API and the page", async ({ browser }) => {
  const s = stackInfo();
  const labA = s.labs.find((l) => l.name === "lab-a")!;
  const definition = demoJob("qemu-boot-only.yaml", s.artifactsUrl, (y) =>
    y.replace("visibility: public", "visibility: personal").replace("job_name: magma demo qemu boot only", "job_name: e2e personal"),
  );
  const id = await submitToLab(labA.url, s.adminToken, definition);
  // the lab's admin submitted it; the frontend admin (a superuser) reads it once its lab reported it
  const job = await finished(s.frontendUrl, "lab-a", id, s.adminToken);
  expect(job.health).toBe("Complete");

  expect(await getFederatedJob(s.frontendUrl, "lab-a", id)).toBeUndefined();
  const list = (await (await fetch(`${s.frontendUrl}/api/v1/jobs?job_name=e2e%20personal`)).json()) as { results: unknown[] };
  expect(list.results).toHaveLength(0);
  expect((await fetch(`${s.frontendUrl}/api/labs/lab-a/jobs/${id}/logs/stream?start=0`)).status).toBe(404);

  // alice (not the submitter, not a superuser) logs in and still finds nothing
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${s.frontendUrl}/login?next=/jobs/lab-a/${id}`);
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill(s.adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("nav-username")).toHaveText("alice");
  await expect(page.getByText(/not found/i)).toBeVisible();
  await page.goto(`${s.frontendUrl}/jobs?job_name=e2e%20personal`);
  await expect(page.getByText("No jobs match these filters.")).toBeVisible();
  await expect(page.getByTestId("job-row")).toHaveCount(0);
  await context.close();
});
