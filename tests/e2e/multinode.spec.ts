import { expect, test } from "@playwright/test";
import { stringify } from "yaml";
import { getFederatedJob, waitFor } from "../../infra/demo/clients.ts";
import { stackInfo } from "./stack-info.ts";

// Issue 14: a two-role MultiNode job on the two QEMU devices of lab-a. The server lava-sends a value,
// the client lava-waits for it and records it as a test case; both sub-jobs Complete, and their
// results reach the frontend.
test("a two-role MultiNode job: client and server exchange a message, both sub-jobs Complete", async ({ page }) => {
  const s = stackInfo();
  const labA = s.labs.find((l) => l.name === "lab-a")!;
  const testdef = (name: string, steps: string[]) => ({
    from: "inline",
    name,
    path: `inline/${name}.yaml`,
    repository: { metadata: { format: "Lava-Test Test Definition 1.0", name }, run: { steps } },
  });
  const definition = stringify({
    job_name: "e2e multinode two roles",
    visibility: "public",
    timeouts: { job: { minutes: 10 }, action: { minutes: 5 } },
    protocols: {
      "lava-multinode": {
        timeout: { minutes: 4 },
        roles: { client: { device_type: "qemu", count: 1 }, server: { device_type: "qemu", count: 1 } },
      },
    },
    actions: [
      {
        deploy: {
          role: ["client", "server"],
          to: "tmpfs",
          os: "oe",
          images: {
            kernel: { image_arg: '-kernel {kernel} -append "console=ttyS0,115200 quiet"', url: `${s.artifactsUrl}/vmlinuz` },
            initrd: { image_arg: "-initrd {initrd}", url: `${s.artifactsUrl}/initramfs.cpio.gz` },
          },
        },
      },
      { boot: { role: ["client", "server"], method: "qemu", media: "tmpfs", prompts: ["magma-dut:/# "] } },
      { test: { role: ["server"], definitions: [testdef("server", ["lava-send ready port=8080", "lava-sync done"])] } },
      {
        test: {
          role: ["client"],
          definitions: [
            testdef("client", [
              "lava-wait ready",
              "lava-test-case received-port --result pass --measurement $(sed -n 's/.*:port=//p' /tmp/lava_multi_node_cache.txt)",
              "lava-sync done",
            ]),
          ],
        },
      },
    ],
  });
  const res = await fetch(`${labA.url}/api/v0.2/jobs/`, {
    method: "POST",
    headers: { authorization: `Token ${s.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ definition }),
  });
  expect(res.status).toBe(201);
  const subIds = ((await res.json()) as { job_ids: string[] }).job_ids;
  const first = Number.parseInt(subIds[0]!, 10);
  expect(subIds).toEqual([`${first}.0`, `${first}.1`]);
  const [client, server] = [first, first + 1];
  const jobs = await waitFor(
    "both sub-jobs Finished in the frontend",
    9 * 60_000,
    async () => {
      const js = await Promise.all([client, server].map((id) => getFederatedJob(s.frontendUrl, "lab-a", id)));
      return js.every((j) => j?.state === "Finished") ? js : undefined;
    },
    1000,
  );
  expect(jobs.map((j) => j!.health)).toEqual(["Complete", "Complete"]);
  const cases = jobs[0]!.suites?.find((x) => x.name === "0_client")?.tests ?? [];
  expect(cases.find((t) => t.name === "received-port")?.result).toBe("pass");
  expect(cases.find((t) => t.name === "multinode-wait-ready")?.result).toBe("pass");
  // the client sub-job's page in the frontend lists the received value's test case
  await page.goto(`${s.frontendUrl}/jobs/lab-a/${client}`);
  await expect(page.getByText("received-port").first()).toBeVisible();
});
