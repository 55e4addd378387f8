import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { upsertInstances } from "@magma/db/frontend";
import { callTrpc, sessionCookieOf, setupTestEnv } from "./helpers.ts";

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let aliceToken = "";
let bobToken = "";

const cli = async (...argv: string[]) => {
  const { runUsersCli } = await import("../src/cli/users-cli.ts");
  const out: string[] = [];
  await runUsersCli(argv, (l) => out.push(l));
  return out;
};

const loginForm = async (username: string, password: string, headers: Record<string, string> = {}) => {
  const { POST } = await import("../src/app/api/auth/login/route.ts");
  return POST(
    new Request("http://127.0.0.1:3000/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", host: "127.0.0.1:3000", ...headers },
      body: new URLSearchParams({ username, password, next: "/submit" }).toString(),
    }),
  );
};

/** Every text cell of the frontend database, as `pg_dump --data-only` would print it. */
async function dumpText(): Promise<string> {
  const c = new pg.Client({ connectionString: envCtl.database.url });
  await c.connect();
  try {
    const parts: string[] = [];
    for (const t of ["app_user", "user_session", "api_token", "user_group", "group_membership", "group_lab"]) {
      parts.push(JSON.stringify((await c.query(`SELECT * FROM ${t}`)).rows));
    }
    return parts.join("\n");
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [
    { name: "lab-a", url: "http://127.0.0.1:9", api_token: "api-a", callback_token: "cb-lab-a-secret" },
    { name: "lab-b", url: "http://127.0.0.1:9", api_token: "api-b", callback_token: "cb-lab-b-secret" },
  ]);
});

afterAll(async () => {
  await envCtl?.cleanup();
});

describe("accounts: CLI", () => {
  it("creates groups, users, grants and tokens, and names what is wrong", async () => {
    expect(await cli("groups", "add", "team-a")).toEqual(["group team-a created"]);
    expect(await cli("add", "admin", "--superuser", "--password", "admin-pass-1")).toEqual(["user admin created (superuser)"]);
    expect(await cli("add", "alice", "--password", "alice-pass-1", "--group", "team-a")).toEqual(["user alice created in team-a"]);
    expect(await cli("add", "bob", "--password", "bob-pass-12")).toEqual(["user bob created"]);
    expect(await cli("groups", "grant", "team-a", "lab-a")).toEqual(["members of team-a may submit to lab-a"]);
    aliceToken = (await cli("tokens", "create", "alice", "--description", "ci"))[0]!;
    bobToken = (await cli("tokens", "create", "bob"))[0]!;
    expect(aliceToken).toMatch(/^[a-z2-7]{32}$/);
    await expect(cli("add", "alice")).rejects.toMatchObject({ code: "CONFLICT", message: 'user "alice" already exists' });
    await expect(cli("add", "carol", "--group", "nope")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: 'group "nope" does not exist (create it first)',
    });
    await expect(cli("add", "bad name")).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringContaining("username may hold only"),
    });
    await expect(cli("add", "dave", "--password", "short")).rejects.toMatchObject({
      message: expect.stringContaining("password must be at least 8 characters"),
    });
    await expect(cli("groups", "grant", "team-a", "lab-zz")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: 'lab "lab-zz" is not configured',
    });
    await expect(cli("frobnicate")).rejects.toThrow('unknown command "frobnicate"');
    const list = await cli("list");
    expect(list).toContain("group team-a  members: alice  labs: lab-a");
  });
});

describe("accounts: login page, sessions, API tokens", () => {
  it("refuses a wrong password and an unknown user alike, back on /login with the error", async () => {
    for (const [u, p] of [
      ["alice", "wrong-pass"],
      ["nobody", "whatever1"],
    ] as const) {
      const res = await loginForm(u, p);
      expect(res.status).toBe(303);
      const loc = new URL(res.headers.get("location")!, "http://x");
      expect(loc.pathname).toBe("/login");
      expect(loc.searchParams.get("error")).toBe("Invalid username or password");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("refuses a login posted from another site", async () => {
    const res = await loginForm("alice", "alice-pass-1", { origin: "https://evil.example" });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(new URL(res.headers.get("location")!, "http://x").searchParams.get("error")).toMatch(/Cross-site request/);
  });

  it("logs in through the form, and the session (stored as a digest) identifies the user until logout", async () => {
    const res = await loginForm("alice", "alice-pass-1", { origin: "http://127.0.0.1:3000" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/submit");
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = sessionCookieOf(res)!;
    const token = cookie.split("=")[1]!;

    const me = await callTrpc("auth.me", { headers: { cookie } });
    expect(me.data).toMatchObject({ username: "alice", isSuperuser: false, groups: ["team-a"], submitLabs: ["lab-a"] });
    expect((await callTrpc("auth.me")).data).toBeNull();

    const dump = await dumpText();
    expect(dump).toContain(createHash("sha256").update(token).digest("hex"));
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(aliceToken);
    expect(dump).not.toContain("alice-pass-1");
    expect(dump).toContain("$argon2id$");

    const { POST } = await import("../src/app/api/auth/logout/route.ts");
    const out = await POST(
      new Request("http://127.0.0.1:3000/api/auth/logout", { method: "POST", headers: { cookie, host: "127.0.0.1:3000" } }),
    );
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/i);
    expect((await callTrpc("auth.me", { headers: { cookie } })).data).toBeNull();
  });

  it("treats an expired session as anonymous and refuses it where a login is needed", async () => {
    const cookie = sessionCookieOf(await loginForm("alice", "alice-pass-1"))!;
    const c = new pg.Client({ connectionString: envCtl.database.url });
    await c.connect();
    await c.query(`UPDATE user_session SET expires_at = now() - interval '1 minute'`);
    await c.end();
    expect((await callTrpc("auth.me", { headers: { cookie } })).data).toBeNull();
    const tokens = await callTrpc("auth.tokens", { headers: { cookie } });
    expect(tokens.status).toBe(401);
    expect(tokens.error?.message).toMatch(/Log in/);
  });

  it("authenticates scripts by API token, records lastUsed, refuses bad and revoked tokens", async () => {
    const me = await callTrpc("auth.me", { headers: { authorization: `Token ${aliceToken}` } });
    expect(me.data).toMatchObject({ username: "alice" });
    const list = await callTrpc("auth.tokens", { headers: { authorization: `Token ${aliceToken}` } });
    expect(list.data).toEqual([
      expect.objectContaining({ description: "ci", prefix: aliceToken.slice(0, 8), lastUsed: expect.any(String) }),
    ]);

    const bad = await callTrpc("jobs.list", { input: {}, headers: { authorization: "Token not-a-real-token-at-all" } });
    expect(bad.status).toBe(401);
    expect(bad.error?.message).toMatch(/API token is not valid/);
    const malformed = await callTrpc("auth.me", { headers: { authorization: "Basic Zm9vOmJhcg==" } });
    expect(malformed.status).toBe(401);

    // a token created on the account page works once and can be revoked
    const created = await callTrpc("auth.createToken", {
      mutation: true,
      input: { description: "laptop" },
      headers: { authorization: `Token ${aliceToken}` },
    });
    const { token, summary } = created.data as { token: string; summary: { id: number } };
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${token}` } })).data).toMatchObject({ username: "alice" });
    await callTrpc("auth.revokeToken", { mutation: true, input: { id: summary.id }, headers: { authorization: `Token ${aliceToken}` } });
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${token}` } })).status).toBe(401);
  });

  it("a deleted user's token and sessions stop working at once", async () => {
    const cookie = sessionCookieOf(await loginForm("bob", "bob-pass-12"))!;
    expect((await callTrpc("auth.me", { headers: { cookie } })).data).toMatchObject({ username: "bob" });
    await cli("delete", "bob");
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${bobToken}` } })).status).toBe(401);
    expect((await callTrpc("auth.me", { headers: { cookie } })).data).toBeNull();
  });
});

describe("accounts: seed file (the demo's)", () => {
  it("applies groups, grants, users and a chosen token, and a second run changes nothing", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const file = `${mkdtempSync(`${tmpdir()}/magma-seed-`)}/accounts.yaml`;
    writeFileSync(
      file,
      [
        "groups: [{name: team-s, labs: [lab-b]}]",
        "users:",
        "- {username: sadmin, password: seed-pass-1, superuser: true, tokens: [{value: chosen-demo-token-0001, description: demo}]}",
        "- {username: salice, password: seed-pass-1, groups: [team-s]}",
      ].join("\n"),
    );
    expect(await cli("seed", file)).toEqual([`seeded 1 group(s), 2 user(s) from ${file}`]);
    expect(await cli("seed", file)).toEqual([`seeded 1 group(s), 2 user(s) from ${file}`]);
    expect((await callTrpc("auth.me", { headers: { authorization: "Token chosen-demo-token-0001" } })).data).toMatchObject({
      username: "sadmin",
      isSuperuser: true,
    });
    expect((await loginForm("salice", "seed-pass-1")).headers.get("location")).toBe("/submit");
    expect(await cli("list")).toContain("group team-s  members: salice  labs: lab-b");
    writeFileSync(file, "users: [{username: x, colour: red}]");
    await expect(cli("seed", file)).rejects.toThrow(/users\.0: Unrecognized key/);
  });
});

describe("accounts: admin page API", () => {
  it("is for superusers only, and adds users, groups, members and lab grants", async () => {
    expect((await callTrpc("admin.overview")).status).toBe(401);
    const asAlice = await callTrpc("admin.overview", { headers: { authorization: `Token ${aliceToken}` } });
    expect(asAlice.status).toBe(403);
    expect(asAlice.error?.message).toBe('Only superusers may call admin.overview; "alice" is not one');

    const [adminToken] = await cli("tokens", "create", "admin");
    const h = { authorization: `Token ${adminToken}` };
    expect((await callTrpc("admin.addGroup", { mutation: true, input: { name: "team-b" }, headers: h })).status).toBe(200);
    expect(
      (
        await callTrpc("admin.addUser", {
          mutation: true,
          input: { username: "erin", password: "erin-pass-1", groups: ["team-b"] },
          headers: h,
        })
      ).status,
    ).toBe(200);
    expect((await callTrpc("admin.addMember", { mutation: true, input: { group: "team-b", username: "alice" }, headers: h })).status).toBe(
      200,
    );
    expect((await callTrpc("admin.grantLab", { mutation: true, input: { group: "team-b", lab: "lab-b" }, headers: h })).status).toBe(200);
    const dup = await callTrpc("admin.addUser", { mutation: true, input: { username: "erin" }, headers: h });
    expect(dup.status).toBe(409);
    expect(dup.error?.message).toBe('user "erin" already exists');

    const o = (await callTrpc("admin.overview", { headers: h })).data as {
      users: { username: string; groups: string[] }[];
      groups: { name: string; members: string[]; labs: string[] }[];
      labs: string[];
    };
    expect(o.labs).toEqual(["lab-a", "lab-b"]);
    expect(o.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "team-a", members: ["alice"], labs: ["lab-a"] }),
        expect.objectContaining({ name: "team-b", members: ["alice", "erin"], labs: ["lab-b"] }),
      ]),
    );
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${aliceToken}` } })).data).toMatchObject({
      submitLabs: ["lab-a", "lab-b"],
    });
    expect((await callTrpc("auth.me", { headers: h })).data).toMatchObject({ isSuperuser: true, submitLabs: ["lab-a", "lab-b"] });

    // and takes away again: a member, a lab grant, superuser status, a user (whose token then stops working)
    expect(
      (await callTrpc("admin.removeMember", { mutation: true, input: { group: "team-b", username: "alice" }, headers: h })).status,
    ).toBe(200);
    expect((await callTrpc("admin.revokeLab", { mutation: true, input: { group: "team-b", lab: "lab-b" }, headers: h })).status).toBe(200);
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${aliceToken}` } })).data).toMatchObject({
      submitLabs: ["lab-a"],
    });
    const [erinToken] = await cli("tokens", "create", "erin");
    expect(
      (await callTrpc("admin.setSuperuser", { mutation: true, input: { username: "erin", superuser: true }, headers: h })).status,
    ).toBe(200);
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${erinToken}` } })).data).toMatchObject({ isSuperuser: true });
    const self = await callTrpc("admin.removeUser", { mutation: true, input: { username: "admin" }, headers: h });
    expect(self.status).toBe(400);
    expect(self.error?.message).toBe("You cannot delete your own account; ask another superuser");
    expect((await callTrpc("admin.removeUser", { mutation: true, input: { username: "erin" }, headers: h })).status).toBe(200);
    expect((await callTrpc("auth.me", { headers: { authorization: `Token ${erinToken}` } })).status).toBe(401);
    const o2 = (await callTrpc("admin.overview", { headers: h })).data as typeof o;
    expect(o2.users.map((u) => u.username)).not.toContain("erin");
    expect(o2.groups).toEqual(expect.arrayContaining([expect.objectContaining({ name: "team-b", members: [], labs: [] })]));
  });
});
