import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZPingResponse } from "@magma/protocol";
import {
  ADMIN_TOKEN,
  api,
  DEFAULT_LAB,
  jobCall,
  jobYaml,
  ping,
  startHarness,
  submit,
  waitUntil,
  type Harness,
} from "../testing/harness.ts";

// the default lab plus a second device on worker-a, so one job can be canceled while another is scheduled
const LAB = `${DEFAULT_LAB}
  - hostname: qemu-02
    device_type: qemu
    worker: worker-a
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ lab: LAB });
  expect((await ping(h)).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const pingAnswer = async () => ZPingResponse.parse((await ping(h)).json);

/** Statements of the test database storing a job token digest and waiting on a row lock now. */
async function digestUpdatesWaiting(): Promise<number> {
  const r = await h.db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE%token_digest%'`;
  return r[0]!.n;
}

describe("a job whose FINISHED was acknowledged is never listed to its worker again", () => {
  it("not by the next ping, and not by a ping whose read of the jobs came before the FINISHED was committed", async () => {
    // job A runs on one device and is canceled: the worker sees it in `cancel`
    const a = await submit(h, jobYaml({ name: "canceled" }));
    const first = await waitUntil(
      async () => {
        const p = await pingAnswer();
        return p.start.find((j) => j.id === a);
      },
      10_000,
      "job A handed out",
    );
    expect((await jobCall(h, "POST", `${a}/`, first.token, { state: "RUNNING" })).status).toBe(200);
    expect((await api(h, "POST", `/api/v0.2/jobs/${a}/cancel/`, { token: ADMIN_TOKEN })).status).toBe(200);
    expect((await pingAnswer()).cancel).toEqual([{ id: a, token: first.token }]);

    // job B is scheduled on the other device and not handed out yet: the next ping stores its token
    // digest, an UPDATE of B's row, after it has read the worker's jobs (A still Canceling)
    const b = await submit(h, jobYaml({ name: "next" }));
    await waitUntil(async () => (await h.db.testJob.findUniqueOrThrow({ where: { id: b } })).state === "Scheduled", 10_000, "B scheduled");

    // hold B's row: the ping reads A as Canceling, then waits on B's lock
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = h.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM test_jobs WHERE id = ${b} FOR UPDATE`;
        locked();
        await released;
      },
      { timeout: 30_000 },
    );
    await isLocked;
    const stale = ping(h);
    await waitUntil(async () => (await digestUpdatesWaiting()) > 0, 10_000, "the ping to wait on B's row");

    // the worker reports A FINISHED and gets its acknowledgement while that ping is still pending
    const finished = await jobCall(h, "POST", `${a}/`, first.token, { state: "FINISHED", result: "fail", error_type: "Canceled" });
    expect(finished.status).toBe(200);
    expect((await h.db.testJob.findUniqueOrThrow({ where: { id: a } })).state).toBe("Finished");

    release();
    await holder;
    const answer = ZPingResponse.parse((await stale).json);
    expect(answer.start.map((j) => j.id)).toEqual([b]);
    expect(answer.cancel).toEqual([]);
    expect(answer.running).toEqual([]);

    // and every later ping
    const later = await pingAnswer();
    expect([...later.start, ...later.running, ...later.cancel].map((j) => j.id)).not.toContain(a);
    // a repeated FINISHED is still acknowledged (idempotent) and lists nothing again
    expect((await jobCall(h, "POST", `${a}/`, first.token, { state: "FINISHED", result: "fail" })).status).toBe(200);
    expect((await pingAnswer()).cancel).toEqual([]);
  });
});
