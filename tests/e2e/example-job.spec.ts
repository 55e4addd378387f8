import { expect, test } from "@playwright/test";
import { getFederatedJob, waitFor } from "../../infra/demo/clients.ts";
import { stackInfo } from "./stack-info.ts";

// A new user's first submission: the submit page's example job, untouched, to one lab.
test("the submit page's example job runs as it is and its results reach the frontend", async ({ page }) => {
  const s = stackInfo();
  await page.goto(`${s.frontendUrl}/submit`);
  const editor = page.getByRole("textbox", { name: /definition/i });
  await expect(editor).toHaveValue(new RegExp(`url: ${s.artifactsUrl.replace(/[.:/]/g, "\\$&")}/vmlinuz`));
  await page.getByRole("checkbox", { name: /lab-b/ }).check();
  await page.getByRole("button", { name: /submit/i }).click();
  await expect(page).toHaveURL(/\/submissions\//);
  const target = page.getByTestId("target-lab-b");
  await expect(target).toContainText(/submitted/i, { timeout: 60_000 });
  const id = Number((await target.getByRole("link").getAttribute("href"))?.match(/\/jobs\/lab-b\/(\d+)/)?.[1]);
  expect(id).toBeGreaterThan(0);
  const job = await waitFor(`lab-b#${id} Finished in the frontend`, 8 * 60_000, async () => {
    const j = await getFederatedJob(s.frontendUrl, "lab-b", id);
    return j && j.state === "Finished" ? j : undefined;
  }, 1000);
  expect(job.health).toBe("Complete");
  const smoke = job.suites?.find((x) => x.name === "0_smoke");
  expect(smoke?.tests.map((t) => [t.name, t.result])).toEqual([
    ["uname", "pass"],
    ["proc-mounted", "pass"],
  ]);
});
