/**
 * `npm run soak [-- --minutes N]`: loops the issue-5 faults against one isolated federation for N
 * minutes (default 10) while QEMU jobs run — instance SIGKILL (held down while its worker finishes),
 * worker SIGKILL mid-job, frontend SIGKILL (down while jobs finish), Redis restarted empty,
 * PostgreSQL crashed — and after each round waits for the invariants (checkInvariants). Prints a
 * table: faults injected, jobs run, results checked, lost, duplicated, stuck. Exit code 1 when
 * anything was lost, duplicated or stuck.
 */
import Table from "cli-table3";
import { parseArgs } from "node:util";
import { waitFor } from "../../infra/demo/clients.ts";
import { log, q, startFaultStack, submit, waitUp, type FaultStack } from "./lib/fault-stack.ts";
import { checkInvariants, waitConsistent, type InvariantReport } from "./lib/invariants.ts";
import { faultJob, quickSteps, tickSteps } from "./lib/jobs.ts";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);

type Fault = "instance-kill" | "worker-kill" | "frontend-down" | "redis-loss" | "postgres-crash";
const FAULTS: Fault[] = ["instance-kill", "worker-kill", "frontend-down", "redis-loss", "postgres-crash"];
const injected = new Map<Fault, number>();
const failures: string[] = [];

const userCases = async (f: FaultStack, lab: string, id: number) =>
  (
    await q<{ n: number }>(
      f,
      lab,
      "SELECT count(*)::int AS n FROM test_cases c JOIN test_suites s ON s.id = c.suite_id WHERE c.job_id = $1 AND s.name <> 'lava'",
      [id],
    )
  )[0]!.n;
const state = async (f: FaultStack, lab: string, id: number) =>
  (await q<{ state: string }>(f, lab, "SELECT state::text FROM test_jobs WHERE id = $1", [id]))[0]?.state;

async function round(f: FaultStack, n: number, fault: Fault): Promise<void> {
  const lab = n % 2 === 0 ? "lab-a" : "lab-b";
  const other = lab === "lab-a" ? "lab-b" : "lab-a";
  const job = (name: string, steps: string[]) => faultJob({ artifactsUrl: f.stack.artifactsUrl, name: `soak ${n} ${name}`, steps });
  const hit = await submit(f, lab, job(`${fault} target`, tickSteps(8)));
  const queued = await submit(f, lab, job("queued", quickSteps()));
  const bystander = await submit(f, other, job("bystander", quickSteps()));
  await waitFor(`soak ${n}: target in its test phase`, 240_000, async () => ((await userCases(f, lab, hit)) >= 1 ? true : undefined));
  log(`round ${n}: ${fault} on ${lab}`);
  injected.set(fault, (injected.get(fault) ?? 0) + 1);
  const sup = f.stack.supervisor;
  switch (fault) {
    case "instance-kill":
      await sup.kill(`${lab}-instance`, "SIGKILL", { hold: true });
      await waitFor("worker finishing with its instance down", 120_000, async () => (f.qemuPids(lab).length === 0 ? true : undefined));
      sup.release(`${lab}-instance`);
      await waitUp(`${f.lab(lab).url}/api/v0.2/system/version/`, lab);
      break;
    case "worker-kill":
      await sup.kill(`${lab}-worker`, "SIGKILL");
      break;
    case "frontend-down":
      await sup.kill("frontend", "SIGKILL", { hold: true });
      await waitFor("jobs finishing with the frontend down", 240_000, async () =>
        (await state(f, lab, hit)) === "Finished" && (await state(f, other, bystander)) === "Finished" ? true : undefined,
      );
      sup.release("frontend");
      await waitUp(`${f.stack.frontendUrl}/api/v1/jobs`, "frontend");
      break;
    case "redis-loss":
      await f.redis.kill();
      await f.redis.start();
      break;
    case "postgres-crash":
      await f.postgres!.kill("SIGQUIT");
      await f.postgres!.start();
      break;
  }
  await waitFor(`soak ${n}: jobs finished`, 300_000, async () => {
    const s = await Promise.all([state(f, lab, hit), state(f, lab, queued), state(f, other, bystander)]);
    return s.every((x) => x === "Finished") ? true : undefined;
  });
  try {
    await waitConsistent(f, 60_000);
  } catch (e) {
    failures.push(`round ${n} (${fault}): ${(e as Error).message}`);
    log(`round ${n} NOT consistent: ${(e as Error).message}`);
  }
}

const f = await startFaultStack({ privatePostgres: true, reconcileMs: 5000 });
const t0 = Date.now();
let final: InvariantReport | undefined;
try {
  for (let n = 0; Date.now() - t0 < minutes * 60_000; n++) await round(f, n, FAULTS[n % FAULTS.length]!);
  final = await checkInvariants(f);
} finally {
  await f.stop();
}
const t = new Table({
  head: ["faults injected", "jobs run", "results checked", "log lines checked", "lost", "duplicated", "stuck", "minutes"],
});
t.push([
  [...injected].map(([k, v]) => `${k} ×${v}`).join("\n"),
  final.jobs,
  final.results,
  final.logLines,
  final.lost.length,
  final.duplicated.length,
  final.stuck.length,
  ((Date.now() - t0) / 60_000).toFixed(1),
]);
console.log(t.toString());
for (const x of [...failures, ...final.lost, ...final.duplicated, ...final.stuck]) console.log(`  ${x}`);
process.exit(failures.length || final.lost.length || final.duplicated.length || final.stuck.length ? 1 : 0);
