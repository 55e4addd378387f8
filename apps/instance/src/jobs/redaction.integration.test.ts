import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { MASKED, ZJobBundle, ZJobDetail, ZPingResponse } from "@magma/protocol";
import { ADMIN_TOKEN, api, jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

/**
 * Secrets of a job definition never leave the instance except to the worker that runs the job:
 * the real instance HTTP server's REST detail, XML-RPC definition, federation payload and notify
 * callback bodies show `[MASKED]`; the worker's job bundle carries the real values.
 */

const SECRETS = ["s3cret-api-key-value", "Bearer header-secret-xyz", "dut-root-password", "callback-token-value"];

let h: Harness;
let receiver: Server;
let receiverUrl = "";
const received: { url: string; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ url: req.url ?? "", body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const a = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  h = await startHarness({ config: { federationCallbackUrl: `${receiverUrl}/federation/lab-a`, federationToken: "fed-token" } });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => receiver?.close(r));
});

function secretJob(): string {
  return jobYaml({
    name: "secrets",
    extra: [
      "secrets: {API_KEY: s3cret-api-key-value}",
      "notify:",
      "  criteria: {status: finished}",
      `  callbacks: [{url: "${receiverUrl}/cb/{ID}", method: POST, dataset: all, content-type: json, token: callback-token-value}]`,
    ].join("\n"),
  })
    .replace(
      '{kernel: {url: "http://example.com/vmlinuz"}}',
      '{kernel: {url: "http://example.com/vmlinuz", headers: {Authorization: "Bearer header-secret-xyz"}}}',
    )
    .replace(
      '{method: qemu, prompts: ["/ #"]}',
      '{method: qemu, prompts: ["/ #"], auto_login: {login_prompt: "login:", username: root, password_prompt: "Password:", password: dut-root-password}}',
    );
}

function expectMasked(text: string, where: string): void {
  for (const s of SECRETS) expect(text, `${where} shows '${s}'`).not.toContain(s);
  expect(text, where).toContain(MASKED);
}

/** An XML-RPC call as lavacli makes it; returns the response body. */
async function xmlrpc(method: string, ...intParams: number[]): Promise<string> {
  const params = intParams.map((p) => `<param><value><int>${p}</int></value></param>`).join("");
  const res = await fetch(`${h.baseUrl}/RPC2`, {
    method: "POST",
    headers: { "content-type": "text/xml", authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` },
    body: `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`,
  });
  expect(res.status).toBe(200);
  return res.text();
}

describe("secrets in job outputs", () => {
  it("REST detail, XML-RPC definition, federation payload and notify callbacks show [MASKED]; the worker bundle has the real values", async () => {
    const id = await submit(h, secretJob());

    const detail = ZJobDetail.parse((await api(h, "GET", `/api/v0.2/jobs/${id}/`)).json);
    expectMasked(detail.definition, "REST definition");
    expectMasked(detail.original_definition, "REST original_definition");
    expect(parse(detail.original_definition)).toMatchObject({
      secrets: { API_KEY: MASKED },
      notify: { callbacks: [{ token: MASKED }] },
      actions: [
        { deploy: { images: { kernel: { headers: { Authorization: MASKED } } } } },
        { boot: { auto_login: { username: "root", password: MASKED } } },
      ],
    });

    const rpc = await xmlrpc("scheduler.jobs.definition", id);
    expect(rpc).toContain("job_name: secrets");
    expectMasked(rpc, "XML-RPC scheduler.jobs.definition");

    // the worker runs the job with the real values
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === id),
      5000,
      "job start",
    );
    const bundle = ZJobBundle.parse((await jobCall(h, "GET", `${id}/`, token)).json);
    expect(parse(bundle.definition)).toMatchObject({
      secrets: { API_KEY: "s3cret-api-key-value" },
      actions: [
        { deploy: { images: { kernel: { headers: { Authorization: "Bearer header-secret-xyz" } } } } },
        { boot: { auto_login: { password: "dut-root-password" } } },
      ],
    });

    await jobCall(h, "POST", `${id}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${id}/`, token, { state: "FINISHED", result: "pass" });
    const cb = await waitUntil(() => received.find((r) => r.url === `/cb/${id}`), 15_000, "the notify callback");
    const payload = JSON.parse(cb.body) as { definition: string };
    expectMasked(payload.definition, "notify callback definition");
    const fed = await waitUntil(
      () =>
        received
          .filter((r) => r.url === "/federation/lab-a")
          .map((r) => JSON.parse(r.body) as { id: number; definition: string })
          .find((p) => p.id === id),
      15_000,
      "the federation callback",
    );
    expectMasked(fed.definition, "federation callback definition");

    const fedPayload = await api(h, "GET", `/api/v0.2/magma/jobs/${id}/federation/`, { token: ADMIN_TOKEN });
    expect(fedPayload.status).toBe(200);
    expectMasked(fedPayload.json.definition, "federation payload");
  });
});
