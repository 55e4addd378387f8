import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZPingResponse } from "@magma/protocol";
import {
  ADMIN_TOKEN,
  api,
  jobCall,
  jobYaml,
  ping,
  startHarness,
  submit,
  waitUntil,
  WORKER_TOKEN,
  type Harness,
} from "../testing/harness.ts";

// Notify `recipients` with `method: email` (LAVA's send_notifications), mailed through real SMTP to a
// local receiver (smtp-server on 127.0.0.1), with LAVA's criteria and verbosity.
const LAB = `
users:
  - username: admin
    superuser: true
    email: admin@lab.example.org
    tokens: [{secret: ${ADMIN_TOKEN}, description: admin}]
  - username: bob
    email: bob@lab.example.org
workers:
  - hostname: worker-a
    token: ${WORKER_TOKEN}
device_types:
  - name: qemu
    dictionary: {qemu: {binary: qemu-system-x86_64, memory_mb: 256, smp: 1}}
devices:
  - hostname: qemu-01
    device_type: qemu
    worker: worker-a
`;

interface Mail {
  from: string;
  to: string[];
  data: string;
}
const mails: Mail[] = [];
let smtp: SMTPServer;
let h: Harness;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => (data += c.toString("utf8")));
      stream.on("end", () => {
        // the body as the reader sees it: quoted-printable soft breaks and escapes decoded
        data = data.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  const port = (smtp.server.address() as AddressInfo).port;
  h = await startHarness({ lab: LAB, config: { smtp: { host: "127.0.0.1", port, from: "lava@lab.example.org" } } });
  await h.db.worker.update({ where: { hostname: "worker-a" }, data: { state: "Online", lastPing: new Date() } });
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((r) => smtp?.close(() => r()));
});

async function runJob(extra: string, result: "pass" | "fail" = "pass"): Promise<number> {
  const jobId = await submit(h, jobYaml({ name: "mailed job", extra }));
  const { token } = await waitUntil(
    async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
    10_000,
    "job start",
  );
  await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
  await jobCall(h, "POST", `${jobId}/logs/`, token, {
    index: 0,
    lines: [
      {
        dt: "2026-12-01T20:00:00.000000",
        lvl: "results",
        msg: { definition: "0_smoke", case: "boot-time", result: "pass", measurement: 1.5, units: "s" },
      },
    ],
  });
  await jobCall(
    h,
    "POST",
    `${jobId}/`,
    token,
    result === "pass" ? { state: "FINISHED", result: "pass" } : { state: "FINISHED", result: "fail", errors: "boom", error_type: "Test" },
  );
  return jobId;
}

describe("notify email recipients", () => {
  it("mails verbose notifications on Finished to an address and to a user's email, with LAVA's subject and body", async () => {
    const id = await runJob(
      "metadata: {build: '42'}\nnotify:\n  criteria: {status: finished}\n  verbosity: verbose\n  recipients:\n  - to: {method: email, email: team@lab.example.org}\n  - to: {method: email, user: bob}",
    );
    const got = await waitUntil(
      () => {
        const m = mails.filter((x) => x.data.includes(`Test Job ${id} `));
        return m.length === 2 ? m : null;
      },
      15_000,
      "two mails",
    );
    expect(got.map((m) => m.to[0]).sort()).toEqual(["bob@lab.example.org", "team@lab.example.org"]);
    for (const m of got) {
      expect(m.from).toBe("lava@lab.example.org");
      expect(m.data).toContain(`Subject: LAVA notification for Test Job ${id} mailed job`);
      expect(m.data).toContain(`The job with ID # ${id} is now in state Finished and health Complete. Job was submitted by admin.`);
      expect(m.data).toContain("Hostname: qemu-01");
      expect(m.data).toContain("build: 42");
      expect(m.data).toContain("Test Suite 0_smoke:");
      expect(m.data).toContain("Test Case boot-time: pass");
      expect(m.data).toContain("Measurement: 1.5 s");
    }
    expect(got.find((m) => m.to[0] === "bob@lab.example.org")!.data).toContain("Dear bob,");
  });

  it("status-only says only the state; criteria decide which transitions mail", async () => {
    const id = await runJob(
      "notify:\n  criteria: {status: incomplete}\n  verbosity: status-only\n  recipients:\n  - to: {method: email, email: fail@lab.example.org}",
      "fail",
    );
    const m = await waitUntil(() => mails.find((x) => x.data.includes(`Test Job ${id} `)), 15_000, "the mail");
    expect(m.data).toContain("now in state Finished and health Incomplete");
    expect(m.data).not.toContain("Job details:");
    // a complete job with criteria incomplete sends nothing (checked after a later mail arrived)
    const quiet = await runJob(
      "notify:\n  criteria: {status: incomplete}\n  recipients:\n  - to: {method: email, email: never@lab.example.org}",
    );
    const later = await runJob(
      "notify:\n  criteria: {status: running}\n  recipients:\n  - to: {method: email, email: running@lab.example.org}",
    );
    await waitUntil(() => mails.find((x) => x.data.includes(`Test Job ${later} `)), 15_000, "the running mail");
    expect(mails.find((x) => x.data.includes(`Test Job ${later} `))!.data).toContain("now in state Running");
    expect(mails.some((x) => x.data.includes(`Test Job ${quiet} `))).toBe(false);
  });

  it("refuses unknown users and IRC at submission, naming the recipient", async () => {
    const bad = async (recipients: string) =>
      (
        await api(h, "POST", "/api/v0.2/jobs/", {
          token: ADMIN_TOKEN,
          body: { definition: jobYaml({ extra: `notify:\n  criteria: {status: finished}\n  recipients:\n${recipients}` }) },
        })
      ).text;
    expect(await bad("  - to: {method: email, user: nobody}")).toContain(
      "user 'nobody' does not exist @ data['notify']['recipients'][0]['to']['user']",
    );
    expect(await bad("  - to: {method: irc, handle: me, server: irc.example.org}")).toContain(
      "IRC notifications are not sent by Magma: use method: email or callbacks @ data['notify']['recipients'][0]['to']['method']",
    );
  });
});
