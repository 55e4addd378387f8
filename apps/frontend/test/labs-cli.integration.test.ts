import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { callTrpc, setupTestEnv } from "./helpers.ts";

/** `npm run labs` on a real PostgreSQL database: add, enroll, list, remove, and the enrollment exchange. */
let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;

const cli = async (...argv: string[]) => {
  const { runLabsCli } = await import("../src/cli/labs-cli.ts");
  const out: string[] = [];
  await runLabsCli(argv, (l) => out.push(l));
  return out;
};

const row = async (name: string) => {
  const c = new pg.Client({ connectionString: envCtl.database.url });
  await c.connect();
  try {
    const r = await c.query(
      "SELECT kind, url, api_token, callback_token, callback_secret, enrollment_token_hash, enrolled_at FROM instance WHERE name = $1",
      [name],
    );
    return r.rows[0] as Record<string, string | null> | undefined;
  } finally {
    await c.end();
  }
};

const enrollRoute = async (token: unknown) => {
  const { POST } = await import("../src/app/api/federation/enroll/route.ts");
  return POST(
    new Request("http://127.0.0.1:3000/api/federation/enroll", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    }),
  );
};

beforeAll(async () => {
  envCtl = await setupTestEnv();
  process.env["MAGMA_FRONTEND_SECRET_KEY"] = "labs-cli-test-key-0123456789abcdefghij";
});

afterAll(async () => {
  await envCtl.cleanup();
});

describe("npm run labs", () => {
  it("adds a Magma lab by URL, prints the lab-side settings and stores no secret in clear", async () => {
    const out = await cli(
      "add",
      "lab-x",
      "--kind",
      "magma",
      "--url",
      "http://10.0.0.5:4001/",
      "--token",
      "api-secret-x",
      "--frontend-url",
      "https://fed.example/",
    );
    expect(out[0]).toBe("lab lab-x added (magma, http://10.0.0.5:4001)");
    expect(out).toContain("  MAGMA_FEDERATION_CALLBACK_URL=https://fed.example/api/callbacks/lab-x");
    const token = out.find((l) => l.startsWith("  MAGMA_FEDERATION_TOKEN="))!.split("=")[1]!;
    const secret = out.find((l) => l.startsWith("  MAGMA_FEDERATION_SIGNING_SECRET="))!.split("=")[1]!;
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const r = await row("lab-x");
    expect(r).toMatchObject({ kind: "magma", url: "http://10.0.0.5:4001", enrollment_token_hash: null });
    expect(r!["callback_token"]).toBe(`sha256:${createHash("sha256").update(token).digest("hex")}`);
    expect(r!["callback_secret"]).not.toContain(secret);
  });

  it("adds a LAVA lab with a given callback token and no signing secret", async () => {
    const out = await cli(
      "add",
      "lava-1",
      "--kind",
      "lava",
      "--url",
      "https://lava.example",
      "--token",
      "lava-api",
      "--callback-token",
      "lava-callback-token",
    );
    expect(out).toContain("  token: lava-callback-token   (sent by LAVA as the Authorization header)");
    expect(await row("lava-1")).toMatchObject({ kind: "lava", url: "https://lava.example", callback_secret: null });
  });

  it("refuses bad input naming the field, and a second lab of the same name", async () => {
    await expect(cli("add", "lab-y", "--kind", "jenkins", "--url", "http://h", "--token", "t")).rejects.toThrow(
      'kind: "jenkins" must be magma or lava',
    );
    await expect(cli("add", "lab-y", "--kind", "magma", "--url", "ftp://h", "--token", "t")).rejects.toThrow(/^url: /);
    await expect(cli("add", "lab-y", "--kind", "magma", "--token", "t")).rejects.toThrow("--url URL is required");
    await expect(cli("add", "bad name", "--kind", "magma", "--url", "http://h", "--token", "t")).rejects.toThrow(/^name: /);
    await expect(cli("add", "lab-x", "--kind", "magma", "--url", "http://h", "--token", "t")).rejects.toThrow('Lab "lab-x" exists already');
    await expect(cli("frobnicate")).rejects.toThrow('unknown command "frobnicate"');
    await expect(cli("remove", "nope")).rejects.toThrow('Lab "nope" does not exist');
  });

  it("enrolls an outbound lab: no URL, only the token's SHA-256 stored, the token works exactly once", async () => {
    const out = await cli("enroll", "lab-c", "--frontend-url", "http://fed:3000");
    const token = out[1]!;
    expect(token).toMatch(/^magma-enroll-/);
    expect(out).toContain("  MAGMA_FEDERATION_URL=http://fed:3000");
    expect(out).toContain(`  MAGMA_ENROLLMENT_TOKEN=${token}`);
    const r = await row("lab-c");
    expect(r).toMatchObject({ kind: "magma", url: null, enrolled_at: null });
    expect(r!["enrollment_token_hash"]).toBe(createHash("sha256").update(token).digest("hex"));
    expect((await cli("list")).find((l) => l.startsWith("lab-c "))).toBe(
      "lab-c  magma  outbound  awaiting enrollment  -  last contact: never",
    );

    const first = await enrollRoute(token);
    expect(first.status).toBe(200);
    const body = (await first.json()) as { lab: string; credential: string; signing_secret: string };
    expect(body.lab).toBe("lab-c");
    const after = await row("lab-c");
    expect(after).toMatchObject({ enrollment_token_hash: null });
    expect(after!["callback_token"]).toBe(`sha256:${createHash("sha256").update(body.credential).digest("hex")}`);
    expect(after!["enrolled_at"]).not.toBeNull();
    expect((await cli("list")).find((l) => l.startsWith("lab-c "))).toMatch(
      /^lab-c {2}magma {2}outbound {2}connected {2}- {2}last contact: 20\d\d-/,
    );

    // the link: only this lab's credential opens it
    const { GET } = await import("../src/app/api/federation/labs/[lab]/poll/route.ts");
    const { POST: ACKS } = await import("../src/app/api/federation/labs/[lab]/acks/route.ts");
    const poll = (lab: string, auth: string | null, q = "?wait=0") =>
      GET(new Request(`http://127.0.0.1:3000/api/federation/labs/${lab}/poll${q}`, { headers: auth ? { authorization: auth } : {} }), {
        params: Promise.resolve({ lab }),
      });
    expect((await poll("lab-c", null)).status).toBe(401);
    expect((await poll("lab-c", "Token not-the-credential")).status).toBe(403);
    expect((await poll("lab-x", `Token ${body.credential}`)).status).toBe(403);
    expect((await poll("nope", `Token ${body.credential}`)).status).toBe(404);
    const badWait = await poll("lab-c", `Token ${body.credential}`, "?wait=600");
    expect(badWait.status).toBe(400);
    expect(((await badWait.json()) as { message: string }).message).toContain("wait");
    const ok = await poll("lab-c", `Token ${body.credential}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ submissions: [], cancels: [], logs: [], cases: [] });
    const acks = await ACKS(
      new Request("http://127.0.0.1:3000/api/federation/labs/lab-c/acks", {
        method: "POST",
        headers: { authorization: `Token ${body.credential}`, "content-type": "application/json" },
        body: JSON.stringify({ acks: [{ target_id: "00000000-0000-0000-0000-000000000000", job_id: 7 }] }),
      }),
      { params: Promise.resolve({ lab: "lab-c" }) },
    );
    expect(await acks.json()).toEqual({ accepted: 0, unknown: ["00000000-0000-0000-0000-000000000000"] });
    const badAcks = await ACKS(
      new Request("http://127.0.0.1:3000/api/federation/labs/lab-c/acks", {
        method: "POST",
        headers: { authorization: `Token ${body.credential}` },
        body: JSON.stringify({ acks: [{ target_id: "t", job_id: -1 }] }),
      }),
      { params: Promise.resolve({ lab: "lab-c" }) },
    );
    expect(badAcks.status).toBe(400);

    const again = await enrollRoute(token);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { message: string }).message).toContain("already used");
    const bad = await enrollRoute(42);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^token: /);
  });

  it("lists one line per lab and removes labs", async () => {
    const lines = await cli("list");
    expect(lines.map((l) => l.split("  ").slice(0, 4).join(" "))).toEqual([
      "lab-c magma outbound connected",
      "lab-x magma inbound configured",
      "lava-1 lava inbound configured",
    ]);
    expect(await cli("remove", "lab-x")).toEqual(["lab lab-x removed"]);
    expect(await row("lab-x")).toBeUndefined();
    expect((await cli("list")).length).toBe(2);
  });

  it("refuses to enroll a LAVA lab", async () => {
    await expect(cli("enroll", "lava-1")).rejects.toThrow('Lab "lava-1" is of kind lava: only Magma labs can connect out');
  });

  it("the admin page does the same, for superusers only", async () => {
    const { db } = await import("../src/server/db.ts");
    const { addUser, createToken } = await import("../src/server/services/accounts.ts");
    await addUser(db(), { username: "root", superuser: true });
    await addUser(db(), { username: "pleb", superuser: false });
    const root = { authorization: `Token ${(await createToken(db(), "root", "t")).token}` };
    const pleb = { authorization: `Token ${(await createToken(db(), "pleb", "t")).token}` };
    const refused = await callTrpc("admin.enrollLab", { mutation: true, input: { name: "lab-p" }, headers: pleb });
    expect(refused.error?.code).toBe("FORBIDDEN");
    expect((await callTrpc("admin.labs", { headers: pleb })).error?.code).toBe("FORBIDDEN");

    const added = await callTrpc("admin.addLab", {
      mutation: true,
      input: { name: "lab-w", kind: "magma", url: "http://10.1.1.1:4001", token: "w-api" },
      headers: root,
    });
    expect(added.error).toBeNull();
    expect(added.data).toMatchObject({ lab: { name: "lab-w", mode: "inbound" }, callbackToken: expect.any(String) });
    const enrolled = await callTrpc("admin.enrollLab", { mutation: true, input: { name: "lab-p" }, headers: root });
    expect((enrolled.data as { token: string }).token).toMatch(/^magma-enroll-/);
    const list = (await callTrpc("admin.labs", { headers: root })).data as { name: string; mode: string; status: string }[];
    expect(list.find((l) => l.name === "lab-p")).toMatchObject({ mode: "outbound", status: "awaiting enrollment" });
    expect((await callTrpc("admin.removeLab", { mutation: true, input: { name: "lab-w" }, headers: root })).error).toBeNull();
    expect(((await callTrpc("admin.labs", { headers: root })).data as { name: string }[]).map((l) => l.name)).not.toContain("lab-w");
    const dup = await callTrpc("admin.addLab", {
      mutation: true,
      input: { name: "lab-p", kind: "magma", url: "http://10.1.1.1:4001", token: "x" },
      headers: root,
    });
    expect(dup.error).toMatchObject({ code: "CONFLICT", message: 'Lab "lab-p" exists already (remove it first)' });
  });
});
