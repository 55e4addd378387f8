/**
 * Issue 5, restarts: SIGKILL of an instance and of a worker mid-job, the frontend down while jobs
 * finish and killed mid-batch, Redis restarted with every queue lost, PostgreSQL crashed under load.
 * After each: every finished job on every lab is in the frontend exactly once with all its results
 * within 60 s of the fault clearing; log lines contiguous; no device, job or QEMU stuck.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../infra/demo/clients.ts";
import { labJob, log, logLineCount, q, startFaultStack, submit, waitJob, waitUp, type FaultStack } from "./lib/fault-stack.ts";
import { checkInvariants, waitConsistent } from "./lib/invariants.ts";
import { faultJob, quickSteps, tickSteps } from "./lib/jobs.ts";

let f: FaultStack;
beforeAll(async () => {
  f = await startFaultStack({ privatePostgres: true, reconcileMs: 5000 });
});
afterAll(async () => {
  await f?.stop();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** test cases of the job's own test definition (LAVA's `lava` suite records actions from the start) */
const caseCount = async (lab: string, id: number) =>
  (
    await q<{ n: number }>(
      f,
      lab,
      "SELECT count(*)::int AS n FROM test_cases c JOIN test_suites s ON s.id = c.suite_id WHERE c.job_id = $1 AND s.name <> 'lava'",
      [id],
    )
  )[0]!.n;
const job = (name: string, steps: string[]) => faultJob({ artifactsUrl: f.stack.artifactsUrl, name, steps });
const finished = (j: { state: string }) => j.state === "Finished";

describe("restarts", () => {
  it("instance SIGKILL: the running job keeps running, the queued one stays queued, logs and result arrive once; worker SIGKILL: Incomplete/Infrastructure, QEMU gone, device free", async () => {
    const a1 = await submit(f, "lab-a", job("a1 runs through an instance outage", tickSteps(12)));
    const a2 = await submit(f, "lab-a", job("a2 queued behind a1", quickSteps()));
    const b1 = await submit(f, "lab-b", job("b1 loses its worker", tickSteps(60)));
    await waitFor("a1 and b1 in their test phase", 180_000, async () =>
      (await caseCount("lab-a", a1)) >= 1 && (await caseCount("lab-b", b1)) >= 1 ? true : undefined,
    );
    const a1LinesBefore = await logLineCount(f, "lab-a", a1);

    log(`SIGKILL lab-a-instance (held down) and lab-b-worker`);
    await f.stack.supervisor.kill("lab-a-instance", "SIGKILL", { hold: true });
    const qemuB = f.qemuPids("lab-b");
    expect(qemuB.length).toBe(1);
    await f.stack.supervisor.kill("lab-b-worker", "SIGKILL");

    // the worker finishes a1 (powers the DUT off) while its instance is down
    await waitFor("lab-a's worker finishing a1 with its instance down", 120_000, async () =>
      f.qemuPids("lab-a").length === 0 ? true : undefined,
    );
    // the killed worker's QEMU dies with it (setpriv --pdeathsig), it does not linger
    await waitFor("lab-b's orphaned QEMU gone", 15_000, async () => (qemuB.every((p) => !alive(p)) ? true : undefined), 200);

    log("releasing lab-a-instance");
    f.stack.supervisor.release("lab-a-instance");
    await waitUp(`${f.lab("lab-a").url}/api/v0.2/system/version/`, "lab-a instance");
    const ja1 = await waitJob(f, "lab-a", a1, "Finished", finished);
    expect(ja1).toMatchObject({ health: "Complete" });
    expect(await logLineCount(f, "lab-a", a1)).toBeGreaterThan(a1LinesBefore);
    expect(await caseCount("lab-a", a1)).toBe(13); // 12 ticks + done

    const jb1 = await waitJob(f, "lab-b", b1, "Finished", finished, 60_000);
    expect(jb1).toMatchObject({ health: "Incomplete", error_type: "Infrastructure" });
    expect(jb1.failure_comment).toMatch(/restarted while job \d+ was running; the DUT session was lost/);

    expect(await waitJob(f, "lab-a", a2, "Finished", finished)).toMatchObject({ health: "Complete" });
    const b2 = await submit(f, "lab-b", job("b2 after the worker restart", quickSteps()));
    expect(await waitJob(f, "lab-b", b2, "Finished", finished)).toMatchObject({ health: "Complete" });

    const r = await waitConsistent(f, 60_000);
    log(`consistent: ${JSON.stringify({ jobs: r.jobs, results: r.results, logLines: r.logLines })}`);
  });

  it("frontend down while jobs finish, killed mid-batch, Redis restarted empty: every job in the frontend once within 60 s", async () => {
    log("SIGKILL frontend (held down)");
    await f.stack.supervisor.kill("frontend", "SIGKILL", { hold: true });
    const a3 = await submit(f, "lab-a", job("a3 finishes while the frontend is down", quickSteps()));
    const b3 = await submit(f, "lab-b", job("b3 finishes while the frontend is down", quickSteps()));
    await Promise.all([waitJob(f, "lab-a", a3, "Finished", finished), waitJob(f, "lab-b", b3, "Finished", finished)]);
    const pending = await q<{ n: number }>(
      f,
      "lab-a",
      "SELECT count(*)::int AS n FROM callback_outbox WHERE state = 'pending' AND job_id = $1",
      [a3],
    );
    expect(pending[0]!.n).toBeGreaterThan(0); // the lab keeps retrying its callbacks

    log("restarting Redis empty; releasing the frontend and killing it again as the callback burst arrives");
    await f.redis.kill();
    await f.redis.start();
    f.stack.supervisor.release("frontend");
    await waitUp(`${f.stack.frontendUrl}/api/v1/jobs`, "frontend");
    await f.stack.supervisor.kill("frontend", "SIGKILL");
    await f.redis.kill();
    await f.redis.start();
    await waitUp(`${f.stack.frontendUrl}/api/v1/jobs`, "frontend");
    const r = await waitConsistent(f, 60_000);
    log(`consistent: ${JSON.stringify({ jobs: r.jobs, results: r.results })}`);
  });

  it("a queue that dropped callbacks is repaired by reconciliation (deterministic loss)", async () => {
    // what a lost Redis or a consumer killed between accept and ingest leaves behind: a job the
    // frontend never heard of, and one stuck at its Running callback without results
    const fe = "frontend";
    const [lost] = await q<{ id: number; remote_id: number }>(
      f,
      fe,
      "SELECT j.id, j.remote_id FROM federated_job j JOIN instance i ON i.id = j.instance_id WHERE i.name = 'lab-b' ORDER BY j.remote_id DESC LIMIT 1",
    );
    const [stale] = await q<{ id: number; remote_id: number }>(
      f,
      fe,
      "SELECT j.id, j.remote_id FROM federated_job j JOIN instance i ON i.id = j.instance_id WHERE i.name = 'lab-a' ORDER BY j.remote_id DESC LIMIT 1",
    );
    await q(f, fe, "DELETE FROM federated_job WHERE id = $1", [lost!.id]);
    // one transaction holding the job row: a lab callback still being retried (the previous test
    // left some in the outboxes) must not slip its cases in between the DELETE and the UPDATE and
    // leave cases whose counts were then zeroed (ingest adds the counts of the rows it inserts)
    const client = await f.db[fe]!.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT 1 FROM federated_job WHERE id = $1 FOR UPDATE", [stale!.id]);
      await client.query("DELETE FROM federated_test_case WHERE job_id = $1", [stale!.id]);
      await client.query(
        "UPDATE federated_job SET state = 'Running', health = 'Unknown', state_rank = 30, pass_count = 0, fail_count = 0, skip_count = 0, unknown_count = 0 WHERE id = $1",
        [stale!.id],
      );
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK");
      throw e;
    } finally {
      client.release();
    }
    await q(f, fe, "UPDATE instance SET reconciled_end_time = NULL, reconciled_job_id = NULL");
    expect((await checkInvariants(f)).lost.length).toBeGreaterThanOrEqual(2);
    await f.redis.kill();
    await f.redis.start();
    const r = await waitConsistent(f, 60_000);
    const [row] = await q<{ pass_count: number; fail_count: number; skip_count: number; unknown_count: number; cases: number }>(
      f,
      fe,
      "SELECT pass_count, fail_count, skip_count, unknown_count, (SELECT count(*)::int FROM federated_test_case c WHERE c.job_id = j.id AND c.suite <> 'lava') AS cases FROM federated_job j WHERE j.id = $1",
      [stale!.id],
    );
    expect(row!.pass_count + row!.fail_count + row!.skip_count + row!.unknown_count).toBe(row!.cases);
    log(`repaired: ${JSON.stringify({ jobs: r.jobs, results: r.results })}`);
  });

  it("PostgreSQL crashed (immediate shutdown) and restarted under load: jobs complete, nothing lost or doubled", async () => {
    const a4 = await submit(f, "lab-a", job("a4 through a PostgreSQL crash", tickSteps(10)));
    const b4 = await submit(f, "lab-b", job("b4 through a PostgreSQL crash", tickSteps(10)));
    await waitFor("a4 and b4 in their test phase", 180_000, async () =>
      (await caseCount("lab-a", a4)) >= 1 && (await caseCount("lab-b", b4)) >= 1 ? true : undefined,
    );
    log("PostgreSQL immediate shutdown");
    await f.postgres!.kill("SIGQUIT");
    await waitFor("lab-a noticing the database is gone", 30_000, async () => {
      try {
        await labJob(f, "lab-a", a4);
        return undefined;
      } catch {
        return true;
      }
    });
    log("PostgreSQL restart");
    await f.postgres!.start();
    const [ja, jb] = await Promise.all([waitJob(f, "lab-a", a4, "Finished", finished), waitJob(f, "lab-b", b4, "Finished", finished)]);
    expect(ja.health).toBe("Complete");
    expect(jb.health).toBe("Complete");
    expect(await caseCount("lab-a", a4)).toBe(11);
    expect(await caseCount("lab-b", b4)).toBe(11);
    const r = await waitConsistent(f, 60_000);
    log(`consistent: ${JSON.stringify({ jobs: r.jobs, results: r.results, logLines: r.logLines })}`);
  });
});
