/**
 * Issue 13 items 4 and 5 on the real processes (two labs with QEMU workers, the built frontend):
 * `labs: "any"` places a job on the lab with an idle device; lab-a's only device cannot start QEMU
 * (an Infrastructure error), so `retry: {infrastructure: 1}` moves the job to lab-b, where it waits
 * behind a running job and is listed by the frontend as Submitted before it runs, then completes;
 * the submission lists both attempts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFederatedJob, waitFor } from "../../infra/demo/clients.ts";
import { labJob, log, startFaultStack, submit, waitJob, type FaultStack } from "./lib/fault-stack.ts";
import { faultJob, quickSteps } from "./lib/jobs.ts";

let f: FaultStack;
beforeAll(async () => {
  f = await startFaultStack({
    // lab-a: no working QEMU device, one whose QEMU dies at start (an unknown option) → Infrastructure
    devices: { "lab-a": 0, "lab-b": 1 },
    labExtras: async (lab) =>
      lab.name === "lab-a"
        ? { devices: [{ hostname: "qemu-broken", device_type: "qemu", dictionary: { qemu: { extra_options: ["-no-such-option"] } } }] }
        : undefined,
  });
});
afterAll(async () => {
  await f?.stop();
});

interface ApiSubmission {
  id: string;
  labs: string[] | "any";
  targets: Array<{
    lab: string;
    status: string;
    job_id: number | null;
    attempts: Array<{ lab: string; job_id: number | null; state: string | null; health: string | null; error_type: string | null }>;
  }>;
}

async function frontendApi<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${f.stack.frontendUrl}${path}`, {
    method,
    headers: { authorization: `Token ${f.stack.adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('labs: "any" with retry elsewhere, and jobs visible from submission', () => {
  it("an Infrastructure failure on lab-a is retried on lab-b, queued there (listed as Submitted) and completes", async () => {
    const artifactsUrl = f.stack.artifactsUrl;
    // 1. keep lab-b's only device busy: the federated list shows the job Running while it runs
    const blocker = await submit(
      f,
      "lab-b",
      faultJob({ artifactsUrl, name: "blocker", steps: ["sleep 900"], jobTimeoutS: 1200, testTimeoutS: 1000 }),
    );
    await waitJob(f, "lab-b", blocker, "running", (j) => j.state === "Running");
    await waitFor("blocker Running in the frontend", 60_000, async () =>
      (await getFederatedJob(f.stack.frontendUrl, "lab-b", blocker, f.stack.adminToken))?.state === "Running" ? true : undefined,
    );
    log("blocker running on lab-b");

    // 2. any lab: lab-a has an idle device, lab-b none → lab-a
    const created = await frontendApi<ApiSubmission>("POST", "/api/v1/submissions", {
      definition: faultJob({ artifactsUrl, name: "anywhere", steps: quickSteps() }),
      labs: "any",
      retry: { infrastructure: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body.labs).toBe("any");
    expect(created.body.targets.map((t) => t.lab)).toEqual(["lab-a"]);
    const id = created.body.id;

    // 3. lab-a's QEMU cannot start: Incomplete/Infrastructure, and the target moves to lab-b
    const moved = await waitFor(
      "the target moved to lab-b",
      300_000,
      async () => {
        const s = (await frontendApi<ApiSubmission>("GET", `/api/v1/submissions/${id}`)).body;
        const t = s.targets[0]!;
        return t.attempts.length === 2 && t.status === "submitted" && t.job_id !== null ? t : undefined;
      },
      1000,
    );
    const failed = moved.attempts[0]!;
    expect(failed).toMatchObject({ lab: "lab-a", state: "Finished", health: "Incomplete", error_type: "Infrastructure" });
    expect(await labJob(f, "lab-a", failed.job_id!)).toMatchObject({ health: "Incomplete", error_type: "Infrastructure" });
    expect(moved.lab).toBe("lab-b");
    expect(moved.attempts[1]).toMatchObject({ lab: "lab-b", job_id: moved.job_id });
    log(`retried: lab-a #${failed.job_id} → lab-b #${moved.job_id}`);

    // 4. queued behind the blocker: the frontend lists it as Submitted before it runs
    const retried = moved.job_id!;
    expect((await labJob(f, "lab-b", retried)).state).toBe("Submitted");
    const listed = await waitFor("the queued job in the federated list", 60_000, async () => {
      const r = await frontendApi<{ results: Array<{ lab: string; id: number; state: string }> }>(
        "GET",
        "/api/v1/jobs?lab=lab-b&state=Submitted",
      );
      return r.body.results.find((j) => j.id === retried);
    });
    expect(listed.state).toBe("Submitted");

    // 5. free the device: the blocker is canceled, the retried job runs and completes
    const cancel = await fetch(`${f.lab("lab-b").url}/api/v0.2/jobs/${blocker}/cancel/`, {
      method: "POST",
      headers: { authorization: `Token ${f.stack.adminToken}` },
    });
    expect(cancel.status).toBeLessThan(300);
    await waitJob(f, "lab-b", retried, "complete", (j) => j.state === "Finished", 300_000);
    expect((await labJob(f, "lab-b", retried)).health).toBe("Complete");
    const done = await waitFor("the attempts show the lab-b job Complete", 60_000, async () => {
      const s = (await frontendApi<ApiSubmission>("GET", `/api/v1/submissions/${id}`)).body;
      return s.targets[0]!.attempts[1]!.health === "Complete" ? s : undefined;
    });
    expect(done.targets[0]!.attempts).toEqual([
      { lab: "lab-a", job_id: failed.job_id, state: "Finished", health: "Incomplete", error_type: "Infrastructure" },
      { lab: "lab-b", job_id: retried, state: "Finished", health: "Complete", error_type: null },
    ]);
    const blockerView = await getFederatedJob(f.stack.frontendUrl, "lab-b", blocker, f.stack.adminToken);
    expect(blockerView).toMatchObject({ state: "Finished", health: "Canceled" });
  });
});
