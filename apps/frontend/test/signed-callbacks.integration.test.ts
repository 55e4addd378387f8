import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE_NAMES } from "@magma/protocol";
import { upsertInstances } from "@magma/db/frontend";
import { notifyPayload, setupTestEnv } from "./helpers.ts";

const SECRET = "lab-s-hmac-secret-0123456789";
let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let redis: Redis;
let queue: Queue;

const sign = async (ts: string, body: string, secret = SECRET) => {
  const { signCallback } = await import("../src/server/services/receive-callback.ts");
  return signCallback(secret, ts, body);
};
const now = () => String(Math.floor(Date.now() / 1000));

const post = async (lab: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>) => {
  const route = await import("../src/app/api/callbacks/[lab]/route.ts");
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers: { "content-type": "application/json", ...headers }, body };
  if (typeof body !== "string") init.duplex = "half";
  return route.POST(new Request(`http://frontend/api/callbacks/${lab}`, init), { params: Promise.resolve({ lab }) });
};

const signedHeaders = async (body: string, over: Partial<Record<"ts" | "delivery" | "secret", string>> = {}) => {
  const ts = over.ts ?? now();
  return {
    "x-magma-timestamp": ts,
    "x-magma-delivery": over.delivery ?? `d-${Math.random().toString(36).slice(2)}`,
    "x-magma-signature": await sign(ts, body, over.secret),
  };
};

const queued = async () => (await queue.getJobs(["waiting", "delayed", "active", "completed", "failed"])).length;

beforeAll(async () => {
  envCtl = await setupTestEnv();
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [
    { name: "lab-s", url: "http://127.0.0.1:9", api_token: "api-s", callback_token: "cb-lab-s-token", callback_secret: SECRET },
    { name: "lab-u", url: "http://127.0.0.1:9", api_token: "api-u", callback_token: "cb-lab-u-token" },
  ]);
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE_NAMES.callbacks, { connection: redis, prefix: envCtl.prefix });
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await envCtl?.cleanup();
});

describe("signed callbacks", () => {
  it("accepts a correctly signed callback once, and refuses its replay with 409", async () => {
    const body = JSON.stringify(notifyPayload({ id: 1 }));
    const headers = await signedHeaders(body, { delivery: "delivery-1" });
    const ok = await post("lab-s", body, headers);
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ queued: true, signed: true });
    const replay = await post("lab-s", body, headers);
    expect(replay.status).toBe(409);
    expect((await replay.json()).message).toBe('Callback delivery "delivery-1" of lab "lab-s" was already received: replay refused');
    expect(await queued()).toBe(1);
  });

  it("refuses unsigned, tampered, wrongly keyed and stale callbacks, queueing nothing", async () => {
    const before = await queued();
    const body = JSON.stringify(notifyPayload({ id: 2 }));
    const unsigned = await post("lab-s", body, { "x-magma-token": "cb-lab-s-token" });
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).message).toMatch(/signs its callbacks: x-magma-timestamp, x-magma-delivery, x-magma-signature missing/);
    const tampered = await post("lab-s", body.replace('"Complete"', '"Incomplete"'), await signedHeaders(body));
    expect(tampered.status).toBe(403);
    expect((await tampered.json()).message).toMatch(/does not match the body/);
    expect((await post("lab-s", body, await signedHeaders(body, { secret: "another-secret-0123456789" }))).status).toBe(403);
    const stale = await post("lab-s", body, await signedHeaders(body, { ts: String(Math.floor(Date.now() / 1000) - 6 * 60) }));
    expect(stale.status).toBe(401);
    expect((await stale.json()).message).toMatch(/refused as stale/);
    const future = await post("lab-s", body, await signedHeaders(body, { ts: String(Math.floor(Date.now() / 1000) + 6 * 60) }));
    expect(future.status).toBe(401);
    const badTs = await post("lab-s", body, { ...(await signedHeaders(body)), "x-magma-timestamp": "yesterday" });
    expect(badTs.status).toBe(400);
    const wrongToken = await post("lab-s", body, { ...(await signedHeaders(body)), "x-magma-token": "not-the-token" });
    expect(wrongToken.status).toBe(403);
    expect(await queued()).toBe(before);
  });

  it("a lab without a secret is accepted on its token alone and marked unsigned", async () => {
    const body = JSON.stringify(notifyPayload({ id: 3 }));
    const res = await post("lab-u", body, { "x-magma-token": "cb-lab-u-token" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ signed: false });
    const { getLabsOverview } = await import("../src/server/services/get-labs-overview.ts");
    const { db } = await import("../src/server/db.ts");
    const labs = await getLabsOverview({ db: db(), timeoutMs: 200 });
    expect(labs.map((l) => [l.name, l.signedCallbacks])).toEqual([
      ["lab-s", true],
      ["lab-u", false],
    ]);
  });

  it("refuses an oversized body while streaming, before checking anything else", async () => {
    const { MAX_CALLBACK_BYTES } = await import("../src/server/services/receive-callback.ts");
    let pulled = 0;
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        if (pulled > MAX_CALLBACK_BYTES * 4) controller.close();
        else controller.enqueue(chunk);
      },
    });
    // no token, no signature, unknown lab: the size is what gets refused, and the stream is abandoned early
    const res = await post("lab-zzz", stream, {});
    expect(res.status).toBe(413);
    expect((await res.json()).message).toMatch(/Callback body is over 33554432 bytes/);
    expect(pulled).toBeLessThan(MAX_CALLBACK_BYTES + 4 * 1024 * 1024);
    const declared = await post("lab-s", "{}", { "content-length": String(MAX_CALLBACK_BYTES + 1) });
    expect(declared.status).toBe(413);
  });
});
