import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZNotifyPayload, ZPingResponse } from "@magma/protocol";
import { startReceiver } from "../testing/receiver.ts";
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

// LAVA 2025+ notify: an allow-list of callback hosts (MAGMA_CALLBACK_ALLOWED_HOSTS, LAVA's
// CALLBACK_ALLOWED_HOSTS) refused at submission, and payloads with submitter_email and health_check
// and without the token, against a real receiver.
const LAB = `
users:
  - username: admin
    superuser: true
    email: admin@lab.example.org
    tokens: [{secret: ${ADMIN_TOKEN}, description: admin}]
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

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({ lab: LAB, config: { callbackAllowedHosts: ["127.0.0.1", "*.allowed.example.org"] } });
});
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

const notify = (url: string) =>
  `notify:\n  criteria: {status: finished}\n  callbacks:\n  - {url: "${url}", method: POST, content-type: json, token: admin, header: X-Token}`;

describe("callback hosts and the LAVA 2025+ payload", () => {
  it("refuses at submission a callback to a host outside the allow-list, naming the url", async () => {
    const r = await api(h, "POST", "/api/v0.2/jobs/", {
      token: ADMIN_TOKEN,
      body: { definition: jobYaml({ extra: notify("https://evil.example.com/cb/{ID}") }) },
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain(
      "callback URL host 'evil.example.com' is not in CALLBACK_ALLOWED_HOSTS (MAGMA_CALLBACK_ALLOWED_HOSTS: 127.0.0.1, *.allowed.example.org) @ data['notify']['callbacks'][0]['url']",
    );
    const ok = await api(h, "POST", "/api/v0.2/jobs/", {
      token: ADMIN_TOKEN,
      body: { definition: jobYaml({ extra: notify("https://squad.allowed.example.org/cb/{ID}") }) },
    });
    expect(ok.status).toBe(201);
    await api(h, "POST", `/api/v0.2/jobs/${ok.json.job_ids[0]}/cancel/`, { token: ADMIN_TOKEN });
  });

  it("sends submitter_email and health_check, and the token only in its header", async () => {
    const jobId = await submit(h, jobYaml({ name: "payload", extra: notify(`${rx.url}/cb/{ID}`) }));
    await h.db.worker.update({ where: { hostname: "worker-a" }, data: { state: "Online", lastPing: new Date() } });
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      10_000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
    const got = await waitUntil(() => rx.received.find((r) => r.url === `/cb/${jobId}`), 10_000, "the callback");
    expect(got.headers["x-token"]).toBe(ADMIN_TOKEN);
    const body = JSON.parse(got.body) as Record<string, unknown>;
    expect(ZNotifyPayload.parse(body)).toMatchObject({
      submitter_username: "admin",
      submitter_email: "admin@lab.example.org",
      health_check: false,
    });
    expect(body).not.toHaveProperty("token");
    expect(got.body).not.toContain(ADMIN_TOKEN);
  });
});
