import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  deriveJobToken,
  digestSecret,
  openSealedSecret,
  randomSecret,
  sealSecret,
  secretMatchesDigest,
  signPayload,
  verifySignature,
} from "./index.ts";

const KEY = "a-secret-key-of-at-least-32-characters";

describe("@magma/db/secrets", () => {
  it("digests are SHA-256 hex of the UTF-8 bytes and compare in constant time", () => {
    expect(digestSecret("tøken")).toBe(createHash("sha256").update(Buffer.from("tøken", "utf8")).digest("hex"));
    expect(secretMatchesDigest("tøken", digestSecret("tøken"))).toBe(true);
    expect(secretMatchesDigest("token", digestSecret("tøken"))).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it("sealed secrets open only with their key and refuse tampering", () => {
    const sealed = sealSecret(KEY, "the-secret");
    expect(sealed).toMatch(/^aes256gcm:/);
    expect(sealed).not.toContain("the-secret");
    expect(sealSecret(KEY, "the-secret")).not.toBe(sealed); // fresh IV
    expect(openSealedSecret(KEY, sealed)).toBe("the-secret");
    expect(openSealedSecret("another-key-of-at-least-32-characters", sealed)).toBeNull();
    const [iv, tag, ct] = sealed.slice("aes256gcm:".length).split(".");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0]! ^= 1;
    expect(openSealedSecret(KEY, `aes256gcm:${iv}.${tag}.${flipped.toString("base64url")}`)).toBeNull();
    expect(openSealedSecret(KEY, "not sealed")).toBeNull();
  });

  it("job tokens are deterministic per (worker token, job, nonce) and look like LAVA's", () => {
    const t = deriveJobToken("worker-token", 7, "nonce");
    expect(t).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(deriveJobToken("worker-token", 7, "nonce")).toBe(t);
    expect(deriveJobToken("worker-token", 8, "nonce")).not.toBe(t);
    expect(deriveJobToken("other-token", 7, "nonce")).not.toBe(t);
    expect(deriveJobToken("worker-token", 7, "nonce2")).not.toBe(t);
  });

  it("signatures: HMAC-SHA256 over `${ts}.${body}`, verified with a 300 s tolerance", () => {
    const body = '{"id":1}';
    const sig = signPayload("s3cret-0123456789", 1_800_000_000, body);
    // computed with node:crypto directly, independent of signPayload
    expect(sig).toBe("sha256=" + createHmac("sha256", "s3cret-0123456789").update(`1800000000.${body}`, "utf8").digest("hex"));
    expect(verifySignature({ secret: "s3cret-0123456789", timestamp: "1800000000", signature: sig, body, nowS: 1_800_000_300 })).toEqual({
      ok: true,
      timestamp: 1_800_000_000,
    });
    expect(verifySignature({ secret: "s3cret-0123456789", timestamp: "1800000000", signature: sig, body, nowS: 1_800_000_301 })).toEqual({
      ok: false,
      reason: "stale timestamp",
    });
  });
});
