import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTrpc, fakeLab, json, notifyPayload, sessionCookieOf, setupTestEnv } from "./helpers.ts";

/**
 * Nothing in a dump of the frontend database equals a live secret: user passwords, session and
 * personal API tokens, and the labs' API tokens, callback tokens and callback secrets — while the
 * frontend still presents the lab token, verifies the callback token and checks signatures.
 */

const run = promisify(execFile);
const LAB_API_TOKEN = "lab-api-token-AAAAAAAAAAAAAAAA";
const LAB_CALLBACK_TOKEN = "lab-callback-token-BBBBBBBBBBBB";
const LAB_SECRET = "lab-hmac-secret-CCCCCCCCCCCCCCCC";
const PASSWORD = "user-password-DDDDDDDD";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lab: Awaited<ReturnType<typeof fakeLab>>;
const seenAuth: string[] = [];

beforeAll(async () => {
  process.env["MAGMA_FRONTEND_SECRET_KEY"] = "test-frontend-secret-key-0123456789abcdef";
  envCtl = await setupTestEnv();
  lab = await fakeLab((req, _b, res) => {
    seenAuth.push(String(req.headers["authorization"]));
    json(res, 200, {
      name: "lab-a",
      version: "t",
      workers: [],
      devices: [],
      device_types: ["qemu"],
      queue: { submitted: 0, scheduled: 0, running: 0 },
    });
  });
  const dir = mkdtempSync(`${tmpdir()}/magma-secrets-`);
  writeFileSync(
    `${dir}/frontend.yaml`,
    `instances:\n- {name: lab-a, url: "${lab.url}", api_token: ${LAB_API_TOKEN}, callback_token: ${LAB_CALLBACK_TOKEN}, callback_secret: ${LAB_SECRET}}\n- {name: lab-b, url: "${lab.url}", api_token: ${LAB_API_TOKEN}b, callback_token: ${LAB_CALLBACK_TOKEN}b}\n`,
  );
  const { syncInstances } = await import("../src/server/services/sync-instances.ts");
  const { db } = await import("../src/server/db.ts");
  await syncInstances({ db: db(), configPath: `${dir}/frontend.yaml` });
});

afterAll(async () => {
  await lab?.close();
  await envCtl?.cleanup();
  delete process.env["MAGMA_FRONTEND_SECRET_KEY"];
});

describe("secrets at rest", () => {
  it("pg_dump of the frontend database holds no live secret, and every secret still works", async () => {
    const { runUsersCli } = await import("../src/cli/users-cli.ts");
    const out: string[] = [];
    await runUsersCli(["add", "alice", "--password", PASSWORD], (l) => out.push(l));
    await runUsersCli(["tokens", "create", "alice"], (l) => out.push(l));
    const userToken = out[1]!;
    const { POST } = await import("../src/app/api/auth/login/route.ts");
    const login = await POST(
      new Request("http://f/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: PASSWORD }),
      }),
    );
    const cookie = sessionCookieOf(login)!;
    const sessionToken = cookie.split("=")[1]!;

    // the secrets work: API token, session, the lab token presented to the lab, callback token and signature
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${userToken}` } })).data).toMatchObject({ username: "alice" });
    expect((await callTrpc("auth.me", { headers: { cookie } })).data).toMatchObject({ username: "alice" });
    const labs = (await callTrpc("labs.overview")).data as { name: string; reachable: boolean }[];
    expect(labs.map((l) => l.reachable)).toEqual([true, true]);
    expect(seenAuth).toEqual(expect.arrayContaining([`Token ${LAB_API_TOKEN}`, `Token ${LAB_API_TOKEN}b`]));
    const route = await import("../src/app/api/callbacks/[lab]/route.ts");
    const { signCallback } = await import("../src/server/services/receive-callback.ts");
    const body = JSON.stringify(notifyPayload({ id: 1 }));
    const ts = String(Math.floor(Date.now() / 1000));
    const signed = await route.POST(
      new Request("http://f/api/callbacks/lab-a", {
        method: "POST",
        headers: { "x-magma-timestamp": ts, "x-magma-delivery": "d1", "x-magma-signature": signCallback(LAB_SECRET, ts, body) },
        body,
      }),
      { params: Promise.resolve({ lab: "lab-a" }) },
    );
    expect(signed.status).toBe(202);
    const byToken = await route.POST(
      new Request("http://f/api/callbacks/lab-b", { method: "POST", headers: { "x-magma-token": `${LAB_CALLBACK_TOKEN}b` }, body }),
      {
        params: Promise.resolve({ lab: "lab-b" }),
      },
    );
    expect(byToken.status).toBe(202);
    const wrong = await route.POST(
      new Request("http://f/api/callbacks/lab-b", { method: "POST", headers: { "x-magma-token": LAB_CALLBACK_TOKEN }, body }),
      {
        params: Promise.resolve({ lab: "lab-b" }),
      },
    );
    expect(wrong.status).toBe(403);

    const { stdout: dump } = await run("pg_dump", ["--data-only", envCtl.database.url], { maxBuffer: 64 * 1024 * 1024 });
    expect(dump).toContain("COPY public.instance");
    for (const secret of [LAB_API_TOKEN, LAB_CALLBACK_TOKEN, LAB_SECRET, PASSWORD, userToken, sessionToken]) {
      expect(dump.includes(secret), `"${secret.slice(0, 12)}…" in pg_dump`).toBe(false);
    }
    expect(dump).toContain("enc:v1:");
  });
});
