import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  CALLBACK_TIMESTAMP_HEADER,
  ZNotifyPayload,
  ZPingResponse,
} from "@magma/protocol";
import { signPayload, verifySignature } from "@magma/db/secrets";
import { startReceiver, type Received } from "../testing/receiver.ts";
import { jobCall, jobYaml, ping, startHarness, submit, waitUntil, type Harness } from "../testing/harness.ts";

const SECRET = "federation-signing-secret-0123456789";
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

let h: Harness;
let rx: Awaited<ReturnType<typeof startReceiver>>;
/** what the receiver concluded at the moment each federation request arrived */
const verdicts = new Map<Received["body"], ReturnType<typeof verifySignature>[]>();
const seenDeliveries = new Set<string>();

beforeAll(async () => {
  rx = await startReceiver((r) => {
    if (!r.url.startsWith("/federation/")) return 200;
    const check = verifySignature({
      secret: SECRET,
      timestamp: one(r.headers[CALLBACK_TIMESTAMP_HEADER]),
      signature: one(r.headers[CALLBACK_SIGNATURE_HEADER]),
      body: r.body,
    });
    verdicts.set(r.body, [...(verdicts.get(r.body) ?? []), check]);
    if (!check.ok) return 401;
    // the first attempt of every delivery fails, so each one is retried once
    const id = one(r.headers[CALLBACK_DELIVERY_HEADER])!;
    if (!seenDeliveries.has(id)) {
      seenDeliveries.add(id);
      return 500;
    }
    return 200;
  });
  h = await startHarness({
    config: {
      federationCallbackUrl: `${rx.url}/federation/lab-a`,
      federationToken: "fed-token-0123456789",
      federationSigningSecret: SECRET,
    },
  });
});
afterAll(async () => {
  await h?.close();
  await rx?.close();
});

describe("signed callbacks", () => {
  it("a real federation callback verifies at a real receiver; retries keep the delivery id and re-sign a fresh timestamp", async () => {
    const jobId = await submit(
      h,
      jobYaml({
        name: "signed",
        extra: `notify: {criteria: {status: finished}, callbacks: [{url: "${rx.url}/notify/{ID}", method: POST, content-type: json}]}`,
      }),
    );
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });

    // every state change is pushed; the Running (frozen) and Finished deliveries are checked here
    const ids = new Set(
      (
        await h.db.callbackOutbox.findMany({
          where: { jobId, callbackIndex: -1, transition: { in: ["Running", "Finished"] } },
          select: { deliveryId: true },
        })
      ).map((r) => r.deliveryId),
    );
    expect(ids.size).toBe(2);
    const fed = await waitUntil(
      () => {
        const all = rx.received.filter((r) => r.url === "/federation/lab-a" && ids.has(one(r.headers[CALLBACK_DELIVERY_HEADER])!));
        return all.filter((r) => r.status === 200).length === 2 ? all : null;
      },
      20_000,
      "both federation callbacks accepted after one retry each",
    );
    // every attempt verified at the receiver
    for (const r of fed) expect(verdicts.get(r.body)!.every((v) => v.ok)).toBe(true);
    expect(fed.map((r) => r.status).sort()).toEqual([200, 200, 500, 500]);
    const byDelivery = new Map<string, Received[]>();
    for (const r of fed)
      byDelivery.set(one(r.headers[CALLBACK_DELIVERY_HEADER])!, [...(byDelivery.get(one(r.headers[CALLBACK_DELIVERY_HEADER])!) ?? []), r]);
    expect(byDelivery.size).toBe(2); // Running and Finished: two deliveries, each tried twice
    for (const [id, attempts] of byDelivery) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(attempts.map((a) => a.status)).toEqual([500, 200]);
      expect(new Set(attempts.map((a) => JSON.parse(a.body).state_string)).size).toBe(1);
    }
    const accepted = fed.find((r) => r.status === 200 && JSON.parse(r.body).state_string === "Finished")!;
    expect(accepted.headers[CALLBACK_SIGNATURE_HEADER]).toBe(
      signPayload(SECRET, one(accepted.headers[CALLBACK_TIMESTAMP_HEADER])!, accepted.body),
    );
    expect(ZNotifyPayload.parse(JSON.parse(accepted.body)).id).toBe(jobId);

    // a job notify callback has no secret: delivery id and timestamp, but no signature
    const notify = await waitUntil(() => rx.received.find((r) => r.url === `/notify/${jobId}`), 10_000, "notify callback");
    expect(notify.headers[CALLBACK_SIGNATURE_HEADER]).toBeUndefined();
    expect(notify.headers[CALLBACK_DELIVERY_HEADER]).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(notify.headers[CALLBACK_TIMESTAMP_HEADER])).toBeGreaterThan(1_700_000_000);

    // what a receiver must refuse, checked on the real accepted request
    const ts = one(accepted.headers[CALLBACK_TIMESTAMP_HEADER])!;
    const sig = one(accepted.headers[CALLBACK_SIGNATURE_HEADER])!;
    const tampered = accepted.body.replace('"Complete"', '"Incomplete"');
    expect(tampered).not.toBe(accepted.body);
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: sig, body: tampered })).toEqual({
      ok: false,
      reason: "bad signature",
    });
    expect(verifySignature({ secret: "another-secret-0123456789abcdef", timestamp: ts, signature: sig, body: accepted.body })).toEqual({
      ok: false,
      reason: "bad signature",
    });
    expect(verifySignature({ secret: SECRET, timestamp: String(Number(ts) + 1), signature: sig, body: accepted.body })).toEqual({
      ok: false,
      reason: "bad signature",
    });
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: sig, body: accepted.body, nowS: Number(ts) + 301 })).toEqual({
      ok: false,
      reason: "stale timestamp",
    });
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: sig, body: accepted.body, nowS: Number(ts) - 301 })).toEqual({
      ok: false,
      reason: "stale timestamp",
    });
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: undefined, body: accepted.body })).toEqual({
      ok: false,
      reason: "missing signature",
    });
    expect(verifySignature({ secret: SECRET, timestamp: undefined, signature: sig, body: accepted.body })).toEqual({
      ok: false,
      reason: "missing timestamp",
    });
    expect(verifySignature({ secret: SECRET, timestamp: "12.5", signature: sig, body: accepted.body })).toEqual({
      ok: false,
      reason: "malformed timestamp",
    });
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: sig.toUpperCase(), body: accepted.body })).toEqual({
      ok: false,
      reason: "malformed signature",
    });
    expect(verifySignature({ secret: SECRET, timestamp: ts, signature: sig, body: Buffer.from(accepted.body, "utf8") })).toEqual({
      ok: true,
      timestamp: Number(ts),
    });
  });

  it("unsigned without a configured secret", async () => {
    await h.restart({ federationSigningSecret: null });
    const jobId = await submit(h, jobYaml({ name: "unsigned" }));
    const { token } = await waitUntil(
      async () => ZPingResponse.parse((await ping(h, { waitMs: 1000 })).json).start.find((s) => s.id === jobId),
      5000,
      "job start",
    );
    await jobCall(h, "POST", `${jobId}/`, token, { state: "RUNNING" });
    const r = await waitUntil(
      () => rx.received.find((x) => x.url === "/federation/lab-a" && JSON.parse(x.body).id === jobId),
      10_000,
      "a federation attempt",
    );
    expect(r.headers[CALLBACK_SIGNATURE_HEADER]).toBeUndefined();
    expect(r.status).toBe(401); // this receiver insists on signatures
    await jobCall(h, "POST", `${jobId}/`, token, { state: "FINISHED", result: "pass" });
  });
});
