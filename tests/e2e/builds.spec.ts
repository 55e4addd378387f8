import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { ZBuildListResponse, ZRegressionListResponse } from "@magma/protocol";
import { getFederatedJob, submitToLab, waitFor } from "../../infra/demo/clients.ts";
import { demoJob, stackInfo } from "./stack-info.ts";

/**
 * Builds, regressions and test history across labs (issue 12), end to end: real QEMU jobs on both
 * labs for two commits of a fresh tree (KernelCI metadata keys), where a `probe` test passes on the
 * first commit and fails on the second everywhere — a regression whose suspect is the code. The
 * labs' notify callbacks carry the results to the frontend; a user then opens the branch's build
 * timeline, the build page, the regressions page, the test's history and a failing case's log line.
 */
const tree = `e2e-${randomUUID().slice(0, 8)}`;
const COMMITS = ["1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"];

/** The demo inline-tests job on `tree`/master at `commit`, with a `probe` case passing or failing. */
function job(artifactsUrl: string, commit: string, probe: "pass" | "fail"): string {
  return demoJob("qemu-inline-tests.yaml", artifactsUrl, (y) =>
    y
      .replace("job_name: magma demo qemu inline tests", `job_name: e2e builds ${commit.slice(0, 4)}`)
      .replace(
        /metadata:\n {2}kernel\.tree: debian\n {2}kernel\.branch: bookworm\n/,
        `metadata:\n  kernel.tree: ${tree}\n  git.branch: master\n  git.commit: "${commit}"\n  git.url: https://git.example.org/linux.git\n`,
      )
      .replace(
        "- lava-test-case always-pass --shell true",
        `- lava-test-case always-pass --shell true\n          - lava-test-case probe --shell ${probe === "pass" ? "true" : "false"}`,
      ),
  );
}

test("builds, regressions and test history over two labs and two commits of real QEMU jobs", async ({ page }) => {
  const s = stackInfo();
  const ids: { lab: string; id: number }[] = [];
  // both labs, first commit then second (one device per lab: they run in submission order)
  for (const [i, commit] of COMMITS.entries()) {
    for (const lab of s.labs)
      ids.push({ lab: lab.name, id: await submitToLab(lab.url, s.adminToken, job(s.artifactsUrl, commit, i === 0 ? "pass" : "fail")) });
  }
  for (const { lab, id } of ids) {
    const j = await waitFor(
      `${lab}#${id} Finished in the frontend`,
      10 * 60_000,
      async () => {
        const v = await getFederatedJob(s.frontendUrl, lab, id);
        return v && v.state === "Finished" ? v : undefined;
      },
      1000,
    );
    expect(j.health, `${lab}#${id}`).toBe("Complete");
  }

  // JSON API
  const builds = ZBuildListResponse.parse(await (await fetch(`${s.frontendUrl}/api/v1/builds?tree=${tree}&branch=master`)).json());
  expect(builds.results.map((b) => b.commit)).toEqual([...COMMITS].reverse());
  expect(builds.results[0]!.labs.map((l) => l.lab)).toEqual(["lab-a", "lab-b"]);
  const regs = ZRegressionListResponse.parse(await (await fetch(`${s.frontendUrl}/api/v1/regressions?tree=${tree}&branch=master`)).json());
  expect(regs.results.map((r) => `${r.kind} ${r.test} ${r.suspect} ${r.labs.join(",")}`)).toEqual([
    "regression 0_smoke.probe code lab-a,lab-b",
  ]);

  // the pages, as a user goes through them
  await page.goto(`${s.frontendUrl}/builds`);
  await page.getByTestId("trees").getByRole("row").filter({ hasText: tree }).getByRole("link", { name: "master" }).click();
  await expect(page).toHaveURL(new RegExp(`/builds\\?tree=${tree}&branch=master`));
  const rows = page.getByTestId("build-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("1 regression");
  await rows.first().getByRole("link").first().click();

  await expect(page).toHaveURL(/\/builds\/build\?/);
  await expect(page.getByTestId("build-title")).toContainText(COMMITS[1]!.slice(0, 12));
  const reg = page.getByTestId("regression-row").filter({ hasText: "0_smoke.probe" });
  await expect(reg).toHaveAttribute("data-suspect", "code");
  await expect(reg.getByTestId("suspect-badge")).toHaveText("code");
  await expect(page.getByTestId("build-failures")).toContainText("0_smoke.always-fail");
  await expect(page.getByTestId("build-jobs").getByRole("link")).toHaveCount(2);
  await page.screenshot({ path: "test-results/build-page.png", fullPage: true });
  // each failing case links to the log line where its result was recorded
  const logLink = page
    .getByTestId("build-failures")
    .getByRole("row")
    .filter({ hasText: "0_smoke.probe" })
    .filter({ hasText: "lab-a" })
    .getByRole("link", { name: /log L\d+/ });
  const logHref = await logLink.getAttribute("href");
  expect(logHref).toMatch(/^\/jobs\/lab-a\/\d+#L\d+$/);

  await reg.getByRole("link", { name: "0_smoke.probe" }).click();
  await expect(page).toHaveURL(/\/builds\/test\?/);
  await expect(page.getByTestId("test-title")).toHaveText("0_smoke.probe");
  const history = page.getByTestId("history-row");
  await expect(history).toHaveCount(2);
  await expect(history.first().getByTestId("history-cell")).toHaveCount(2);
  for (const [row, result] of [
    [0, "fail"],
    [1, "pass"],
  ] as const) {
    for (const cell of await history.nth(row).getByTestId("history-cell").all()) await expect(cell).toHaveAttribute("data-result", result);
  }
  await expect(page.getByTestId("sparkline")).toBeVisible();
  await page.screenshot({ path: "test-results/test-history.png", fullPage: true });

  // the regressions page with a filter in the URL reproduces the view from a link
  await page.goto(`${s.frontendUrl}/builds/regressions?tree=${tree}&branch=master&suspect=lab`);
  await expect(page.getByText("No regressions or fixes match.")).toBeVisible();
  await page.getByRole("combobox", { name: "Suspect" }).selectOption("code");
  await expect(page).toHaveURL(/suspect=code/);
  await expect(page.getByTestId("regression-row")).toHaveCount(1);
  await expect(page.getByTestId("regression-row")).toContainText("lab-a, lab-b");

  // the failing case's log line, highlighted on the job page
  await page.goto(`${s.frontendUrl}${logHref}`);
  await expect(page.locator(".log-target")).toContainText("probe");
  await expect(page.locator(".log-target")).toBeInViewport();
});
