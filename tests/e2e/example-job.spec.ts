import { expect, test } from "@playwright/test";
import { getFederatedJob, waitFor } from "../../infra/demo/clients.ts";
import { stackInfo } from "./stack-info.ts";

// A new user's first submission: alice (team-a, may use lab-a) logs in and submits the submit page's
// example job, untouched, to lab-a.
test("the submit page's example job runs as it is and its results reach the frontend", async ({ page }) => {
  const s = stackInfo();
  await page.goto(`${s.frontendUrl}/login?next=/submit`);
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill(s.adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/submit$/);
  const editor = page.getByRole("textbox", { name: /definition/i });
  await expect(editor).toHaveValue(new RegExp(`url: ${s.artifactsUrl.replace(/[.:/]/g, "\\$&")}/vmlinuz`));
  await page.getByRole("checkbox", { name: /lab-a/ }).check();
  await page.getByRole("button", { name: /submit/i }).click();
  await expect(page).toHaveURL(/\/submissions\//);
  const target = page.getByTestId("target-lab-a");
  await expect(target).toContainText(/submitted/i, { timeout: 60_000 });
  const id = Number((await target.getByRole("link").getAttribute("href"))?.match(/\/jobs\/lab-a\/(\d+)/)?.[1]);
  expect(id).toBeGreaterThan(0);
  const job = await waitFor(
    `lab-a#${id} Finished in the frontend`,
    8 * 60_000,
    async () => {
      const j = await getFederatedJob(s.frontendUrl, "lab-a", id);
      return j && j.state === "Finished" ? j : undefined;
    },
    1000,
  );
  expect(job.health).toBe("Complete");
  // the lab records the real submitter (its own user alice, made on first use), not the frontend's admin token
  const labA = s.labs.find((l) => l.name === "lab-a")!;
  const labJob = (await (
    await fetch(`${labA.url}/api/v0.2/jobs/${id}/`, { headers: { authorization: `Token ${s.adminToken}` } })
  ).json()) as { submitter: string };
  expect(labJob.submitter).toBe("alice");
  expect(job.submitter).toBe("alice");
  const smoke = job.suites?.find((x) => x.name === "0_smoke");
  expect(smoke?.tests.map((t) => [t.name, t.result])).toEqual([
    ["uname", "pass"],
    ["proc-mounted", "pass"],
  ]);
});
