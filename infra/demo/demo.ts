/**
 * `npm run demo`: brings up a three-lab Magma federation on this machine and runs the main job.
 *
 *   lab-a  http://127.0.0.1:4001  (instance + own DB + worker with qemu-01, qemu-02)
 *   lab-b  http://127.0.0.1:4002  (same, plus bbb-01: a simulated U-Boot board behind ser2net on
 *          telnet 127.0.0.1:7001, power-controlled by tests/tools/power-controller.sh; its health
 *          check — a TFTP ramdisk boot through U-Boot — runs when the demo starts)
 *   lab-c  outbound-only (instance on 127.0.0.1:4003 for its own worker only; qemu-01, qemu-02): the
          frontend has no URL for it — it was enrolled with `npm run labs -- enroll lab-c` and connects
          out to the frontend (MAGMA_FEDERATION_URL + MAGMA_ENROLLMENT_TOKEN)
   frontend http://127.0.0.1:3000
 *   DUT images http://127.0.0.1:4100/{vmlinuz,initramfs.cpio.gz}
 *
 * It submits the inline-tests job through the frontend's cross-lab submission path (to all three
 * labs), the boot-only job to lab-b the same way, and the inline-tests job straight to lab-a's REST
 * API as curl would; prints URLs, tokens and a curl line; waits for the results to reach the
 * frontend; then keeps supervising until Ctrl-C (or exits with --exit-when-done).
 *
 * The frontend gets the users `admin` (superuser; API token MAGMA_DEMO_TOKEN, the labs' admin token
 * too) and `alice` (group team-a, which may submit to lab-a), both with the password
 * MAGMA_DEMO_PASSWORD; the demo's frontend submissions go as `admin`.
 *
 * Environment (all optional): MAGMA_DEMO_TOKEN (admin API token; generated and printed when unset),
 * MAGMA_DEMO_PASSWORD (password of the frontend's admin and alice; generated and printed when unset),
 * MAGMA_LAB_A_PORT, MAGMA_LAB_B_PORT, MAGMA_LAB_C_PORT, MAGMA_FRONTEND_PORT, MAGMA_DEMO_ARTIFACT_PORT,
 * MAGMA_PG_URL (PostgreSQL server URL, default postgresql://postgres@127.0.0.1:5432/postgres),
 * REDIS_URL (default redis://127.0.0.1:6379), MAGMA_STATE_DIR (default <repo>/.magma/demo),
 * MAGMA_DEMO_SER2NET_PORT (telnet port of lab-b's U-Boot board, default 7001).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, startStack } from "./stack.ts";
import { BBB_HOSTNAME, ubootBoardExtras } from "./uboot-board.ts";
import { getFederatedJob, submitToLab, trpcMutation, trpcQuery, waitFor } from "./clients.ts";

const { values: flags } = parseArgs({ options: { "exit-when-done": { type: "boolean", default: false } } });
const env = process.env;
const port = (name: string, dflt: number): number => {
  const v = env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}="${v}" is not a TCP port (1-65535)`);
  return n;
};
const log = (msg: string) => console.log(`\x1b[1;35m[demo]\x1b[0m ${msg}`);

const generatedToken = !env["MAGMA_DEMO_TOKEN"];
const generatedPassword = !env["MAGMA_DEMO_PASSWORD"];
const adminPassword = env["MAGMA_DEMO_PASSWORD"] || randomBytes(9).toString("base64url");
const adminToken = env["MAGMA_DEMO_TOKEN"] || randomBytes(24).toString("base64url");
const artifactPort = port("MAGMA_DEMO_ARTIFACT_PORT", 4100);
const stateDir = env["MAGMA_STATE_DIR"] || path.join(ROOT, ".magma/demo");
const ser2netPort = port("MAGMA_DEMO_SER2NET_PORT", 7001);

log("starting lab-a, lab-b, outbound-only lab-c (instance + worker each) and the frontend …");
const stack = await startStack({
  id: "demo",
  labs: [
    { name: "lab-a", port: port("MAGMA_LAB_A_PORT", 4001), devices: 2 },
    { name: "lab-b", port: port("MAGMA_LAB_B_PORT", 4002), devices: 2 },
    { name: "lab-c", port: port("MAGMA_LAB_C_PORT", 4003), devices: 2, outbound: true },
  ],
  frontendPort: port("MAGMA_FRONTEND_PORT", 3000),
  pgUrl: env["MAGMA_PG_URL"] || "postgresql://postgres@127.0.0.1:5432/postgres",
  redisUrl: env["REDIS_URL"] || "redis://127.0.0.1:6379",
  queuePrefix: "magma-demo",
  adminToken,
  adminPassword,
  stateDir,
  dutDir: path.join(ROOT, ".magma/dut"),
  artifactPort,
  labExtras: async (lab) => (lab.name === "lab-b" ? ubootBoardExtras(stateDir, ser2netPort, lab.artifactsUrl) : undefined),
  // every device type has a health check, as in a LAVA lab (the U-Boot board's comes with labExtras)
  qemuHealthCheck: (artifactsUrl) =>
    readFileSync(path.join(ROOT, "infra/demo/jobs/qemu-health-check.yaml"), "utf8").replaceAll("http://127.0.0.1:4100", artifactsUrl),
  onEvent: (e) => {
    if (e.event === "started") return;
    log(`supervisor: ${e.name} ${e.event}${e.code !== undefined ? ` (code ${e.code}, signal ${e.signal ?? "none"})` : ""}; log: ${e.log}`);
  },
});

let stopping = false;
const shutdown = async (sig: string) => {
  if (stopping) return;
  stopping = true;
  log(`${sig}: stopping every process …`);
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

// the job files name the default image server; point them at this run's (MAGMA_DEMO_ARTIFACT_PORT)
const demoJob = (file: string) =>
  readFileSync(path.join(ROOT, "infra/demo/jobs", file), "utf8").replaceAll("http://127.0.0.1:4100", stack.artifactsUrl);
const inline = demoJob("qemu-inline-tests.yaml");
const bootOnly = demoJob("qemu-boot-only.yaml");
const [labA, labB, labC] = stack.labs as [(typeof stack.labs)[0], (typeof stack.labs)[0], (typeof stack.labs)[0]];

type Submission = {
  id: string;
  targets: { lab: string; status: string; remoteJobId?: number | null; remote_job_id?: number | null; error?: string | null }[];
};
const fanOut = await trpcMutation<Submission>(
  stack.frontendUrl,
  "submissions.create",
  { clientRequestId: randomUUID(), definition: inline, labs: [labA.name, labB.name, labC.name] },
  adminToken,
);
const bootSub = await trpcMutation<Submission>(
  stack.frontendUrl,
  "submissions.create",
  { clientRequestId: randomUUID(), definition: bootOnly, labs: [labB.name] },
  adminToken,
);
const direct = await submitToLab(labA.url, adminToken, inline);
log(`submitted through the frontend: submission ${fanOut.id} (inline tests → lab-a, lab-b, lab-c), ${bootSub.id} (boot only → lab-b)`);
log(`submitted straight to lab-a's REST API: job ${direct}`);

console.log(`
  Frontend          ${stack.frontendUrl}            (labs, jobs, results, submit form)
  lab-a REST        ${labA.url}/api/v0.2/
  lab-b REST        ${labB.url}/api/v0.2/
  lab-c             outbound-only: connects to the frontend (npm run labs -- list shows it connected)
  DUT images        ${stack.artifactsUrl}/vmlinuz  ${stack.artifactsUrl}/initramfs.cpio.gz
  U-Boot board      lab-b ${BBB_HOSTNAME} (beaglebone-black): telnet 127.0.0.1 ${ser2netPort} (ser2net), health check runs first
                    ${labB.url}/api/v0.2/devices/${BBB_HOSTNAME}/dictionary/  (GET/PUT, admin token)
  admin API token   ${adminToken}${generatedToken ? "   (generated; set MAGMA_DEMO_TOKEN to choose it)" : ""}
                    (the labs' admin token, and the frontend's: curl -H "Authorization: Token …" ${stack.frontendUrl}/api/v1/jobs)
  frontend login    admin / ${adminPassword}   (superuser: /admin)${generatedPassword ? "   (generated; set MAGMA_DEMO_PASSWORD to choose it)" : ""}
                    alice / same password      (group team-a: may submit to ${labA.name} only)
  logs              ${path.join(stateDir, "logs")}

  Submit with curl:
    curl -s -H "Authorization: Token ${adminToken}" -H 'Content-Type: application/json' \\
      --data "$(node -e 'console.log(JSON.stringify({definition: require("fs").readFileSync("infra/demo/jobs/qemu-inline-tests.yaml","utf8")${stack.artifactsUrl === "http://127.0.0.1:4100" ? "" : `.replaceAll("http://127.0.0.1:4100","${stack.artifactsUrl}")`}}))')" \\
      ${labA.url}/api/v0.2/jobs/
`);

// Resolve the lab job ids of the fan-out submissions, then wait for every job in the frontend.
const resolveTargets = (sub: Submission) =>
  waitFor(`submission ${sub.id} submitted to every lab`, 120_000, async () => {
    const s = await trpcQuery<Submission>(stack.frontendUrl, "submissions.get", { id: sub.id }, adminToken);
    const failed = s.targets.find((t) => t.status === "failed");
    if (failed) throw new Error(`lab ${failed.lab} refused the job: ${failed.error}`);
    const ids = s.targets.map((t) => ({ lab: t.lab, id: t.remoteJobId ?? t.remote_job_id ?? undefined }));
    return ids.every((t) => t.id !== undefined) ? (ids as { lab: string; id: number }[]) : undefined;
  });
const jobs = [...(await resolveTargets(fanOut)), ...(await resolveTargets(bootSub)), { lab: labA.name, id: direct }];
log(`lab jobs: ${jobs.map((j) => `${j.lab}#${j.id}`).join(", ")}; waiting for them to finish (QEMU boots take 10-30 s each under TCG) …`);

for (const j of jobs) {
  const job = await waitFor(
    `${j.lab}#${j.id} finished in the frontend`,
    15 * 60_000,
    async () => {
      const v = await getFederatedJob(stack.frontendUrl, j.lab, j.id, adminToken);
      return v && v.state === "Finished" ? v : undefined;
    },
    1000,
  );
  const cases = (job.suites ?? []).flatMap((s) =>
    s.tests.map((t) => `${s.name}.${t.name}=${t.result}${t.measurement ? `(${t.measurement}${t.unit ?? t.units ?? ""})` : ""}`),
  );
  log(`${j.lab}#${j.id}: ${job.health}; ${cases.length} results: ${cases.filter((c) => !c.startsWith("lava.")).join(" ")}`);
  log(`  ${stack.frontendUrl}/jobs/${j.lab}/${j.id}`);
}

if (flags["exit-when-done"]) {
  await shutdown("done");
} else {
  log(`all demo jobs finished. The federation keeps running: open ${stack.frontendUrl} — Ctrl-C stops everything.`);
  console.log(`
  A five-minute tour:
    1. Labs       ${stack.frontendUrl}/          every lab, its devices and health, reachable or not
    2. Submit     ${stack.frontendUrl}/login     log in as alice (password above), then on /submit the
                  example job runs as it is: tick lab-a, press Submit
    3. Live log   follow the submission's link to the job page: the DUT's console streams as it boots
    4. Results    ${stack.frontendUrl}/results   pass/fail per test across labs, with the trend chart
                  ${stack.frontendUrl}/jobs/${jobs[0]!.lab}/${jobs[0]!.id}   one job's suites, cases and measurements
`);
}
