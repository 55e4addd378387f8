import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startHarness, type Harness } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const WHOAMI = `<?xml version="1.0"?><methodCall><methodName>system.whoami</methodName><params></params></methodCall>`;
const basic = (raw: string) => `Basic ${Buffer.from(raw, "utf8").toString("base64")}`;
const rpc = (authorization?: string) =>
  fetch(`${h.baseUrl}/RPC2`, {
    method: "POST",
    headers: { "content-type": "text/xml", ...(authorization !== undefined ? { authorization } : {}) },
    body: WHOAMI,
  });

describe("/RPC2 HTTP Basic credentials", () => {
  it("answers 401 (never 500) to malformed credentials", async () => {
    const malformed = [
      basic("admin:%zz-not-percent-encoding"), // URIError in decodeURIComponent
      basic("%E0%A4%A:token"), // truncated UTF-8 escape
      basic("no-colon-at-all"),
      basic("admin:"), // empty token
      basic(":" + ADMIN_TOKEN), // empty user
      basic("ad\u0000min:" + ADMIN_TOKEN), // NUL byte
      basic("admin:tok%00en"),
      "Basic !!!not-base64!!!",
      "Bearer something",
      "Basic",
    ];
    for (const a of malformed) {
      const r = await rpc(a);
      expect(r.status, a).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Basic realm="magma"');
      expect(await r.text()).toBe("401 Unauthorized");
    }
  });

  it("still accepts good credentials and anonymous calls", async () => {
    const ok = await rpc(basic(`admin:${ADMIN_TOKEN}`));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("<string>admin</string>");
    const anon = await rpc();
    expect(anon.status).toBe(200);
    const wrong = await rpc(basic("admin:wrong-token-0123456789abcdef"));
    expect(wrong.status).toBe(401);
  });
});
