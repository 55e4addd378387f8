import { randomBytes } from "node:crypto";
import {
  createInstance,
  deleteInstance,
  findInstanceByName,
  listInstances,
  redeemEnrollmentToken,
  setEnrollmentToken,
  LAB_KINDS,
  type FrontendDb,
  type TInstanceRecord,
  type TLabKind,
} from "@magma/db/frontend";
import { LAB_LINK_CONNECTED_WINDOW_MS, type TEnrollResponse } from "@magma/protocol";
import { AppError } from "../app-error.ts";
import { callbackTokenDigest, sealSecret } from "../auth/secret-box.ts";
import { tokenDigest } from "../auth/secrets.ts";
import { ZInstanceConfig } from "./sync-instances.ts";

/**
 * Managed labs: the labs the frontend federates live in its database (table `instance`) and are
 * added, enrolled, listed and removed at run time by `npm run labs` and the /admin page (the YAML
 * file MAGMA_FRONTEND_CONFIG stays a seed, synced at startup). Every consumer (submission delivery,
 * callback ingest, reconciler, labs page) reads the labs from the database on each use, so a change
 * takes effect within one reconciliation interval at most, without a restart.
 *
 * Modes: an `inbound` lab has a URL the frontend calls; an `outbound` lab (enrolled) has none and
 * connects out to the frontend (see packages/protocol lab-link).
 */

/** How the frontend talks to a lab. */
export type TLabMode = "inbound" | "outbound";

/** A lab as listed by `labs list` and the admin page (no secrets). */
export interface TLabSummary {
  name: string;
  kind: TLabKind;
  mode: TLabMode;
  url: string | null;
  /** outbound: `connected` / `disconnected` / `awaiting enrollment`; inbound: `configured` */
  status: string;
  lastContactAt: string | null;
  enrolledAt: string | null;
  /** whether the lab's callbacks are signed (a callback secret is stored) */
  signedCallbacks: boolean;
}

/** The mode of a stored lab: outbound when it has no URL. */
export function labMode(lab: TInstanceRecord): TLabMode {
  return lab.url === null ? "outbound" : "inbound";
}

/**
 * Connection status of an outbound lab: `awaiting enrollment` until the token is redeemed, then
 * `connected` when heard from within {@link LAB_LINK_CONNECTED_WINDOW_MS}, else `disconnected`.
 * Inbound labs are `configured` (their reachability is probed by the labs page).
 */
export function labStatus(lab: TInstanceRecord, now = Date.now()): string {
  if (lab.url !== null) return "configured";
  if (!lab.enrolledAt) return lab.enrollmentPending ? "awaiting enrollment" : "not enrolled";
  const last = lab.lastContactAt ? Date.parse(lab.lastContactAt) : 0;
  return now - last <= LAB_LINK_CONNECTED_WINDOW_MS ? "connected" : "disconnected";
}

/** A stored lab as a {@link TLabSummary}. */
export function summariseLab(lab: TInstanceRecord, now = Date.now()): TLabSummary {
  return {
    name: lab.name,
    kind: lab.kind,
    mode: labMode(lab),
    url: lab.url,
    status: labStatus(lab, now),
    lastContactAt: lab.lastContactAt,
    enrolledAt: lab.enrolledAt,
    signedCallbacks: lab.callbackSecret !== null,
  };
}

/** Every lab, by name. */
export async function listLabs(db: FrontendDb): Promise<TLabSummary[]> {
  const now = Date.now();
  return (await listInstances(db)).map((l) => summariseLab(l, now));
}

/** What `labs add` takes. */
export interface AddLabOptions {
  name: string;
  kind: string;
  url: string;
  /** API token the frontend submits with (a Magma token with the federation capability, or a LAVA token) */
  token: string;
  /** secret the lab sends with its callbacks; generated when omitted */
  callbackToken?: string | null;
  /** HMAC key of signed callbacks (Magma labs); generated for a Magma lab when omitted, none for LAVA */
  callbackSecret?: string | null;
}

/** What the lab's admin must configure, returned once by {@link addLab} (secrets in clear). */
export interface TAddedLab {
  lab: TLabSummary;
  callbackToken: string;
  callbackSecret: string | null;
}

/**
 * Adds a lab the frontend reaches at `url` (`labs add`). Validates like a MAGMA_FRONTEND_CONFIG
 * entry; secrets are stored sealed / as digests, as the YAML sync stores them.
 * @throws AppError INVALID_REQUEST naming the field (`kind: "x" must be magma or lava`, `url: Invalid URL`),
 *   CONFLICT when a lab of that name exists
 */
export async function addLab(db: FrontendDb, o: AddLabOptions): Promise<TAddedLab> {
  if (!(LAB_KINDS as readonly string[]).includes(o.kind))
    throw new AppError("INVALID_REQUEST", { message: `kind: "${o.kind}" must be ${LAB_KINDS.join(" or ")}` });
  const kind = o.kind as TLabKind;
  const callbackToken = o.callbackToken ?? randomBytes(24).toString("base64url");
  const callbackSecret = o.callbackSecret ?? (kind === "magma" ? randomBytes(32).toString("base64url") : null);
  const parsed = ZInstanceConfig.safeParse({
    name: o.name,
    url: o.url,
    api_token: o.token,
    callback_token: callbackToken,
    ...(callbackSecret ? { callback_secret: callbackSecret } : {}),
  });
  if (!parsed.success) {
    throw new AppError("INVALID_REQUEST", {
      message: parsed.error.issues.map((i) => `${i.path.join(".") === "api_token" ? "token" : i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  const stored = await createInstance(db, {
    name: o.name,
    kind,
    url: parsed.data.url,
    api_token: sealSecret(o.token),
    callback_token: callbackTokenDigest(callbackToken),
    callback_secret: callbackSecret ? sealSecret(callbackSecret) : null,
  });
  if (!stored) throw new AppError("CONFLICT", { message: `Lab "${o.name}" exists already (remove it first)` });
  return { lab: summariseLab(stored), callbackToken, callbackSecret };
}

/**
 * Issues a one-time enrollment token for an outbound-only Magma lab (`labs enroll`): creates the lab
 * without a URL, or turns an existing lab outbound (its URL is dropped; a re-enrollment replaces its
 * credential once redeemed). Only the token's SHA-256 is stored; the token is returned once.
 * @throws AppError INVALID_REQUEST for a bad name, CONFLICT for a lab of kind lava (LAVA cannot connect out)
 */
export async function enrollLab(db: FrontendDb, name: string): Promise<{ lab: TLabSummary; token: string }> {
  const ok = ZInstanceConfig.shape.name.safeParse(name);
  if (!ok.success) throw new AppError("INVALID_REQUEST", { message: `name: ${ok.error.issues[0]!.message}` });
  const existing = await findInstanceByName(db, name);
  if (existing && existing.kind !== "magma")
    throw new AppError("CONFLICT", { message: `Lab "${name}" is of kind ${existing.kind}: only Magma labs can connect out` });
  const token = `magma-enroll-${randomBytes(24).toString("base64url")}`;
  const lab = await setEnrollmentToken(db, name, tokenDigest(token), callbackTokenDigest(randomBytes(32).toString("base64url")));
  return { lab: summariseLab(lab), token };
}

/**
 * Removes a lab (`labs remove`): its jobs, results and submission targets stored here go with it.
 * @throws AppError NOT_FOUND naming the lab
 */
export async function removeLab(db: FrontendDb, name: string): Promise<void> {
  if (!(await deleteInstance(db, name))) throw new AppError("NOT_FOUND", { message: `Lab "${name}" does not exist` });
}

/**
 * Exchanges a one-time enrollment token for a lab credential and a callback signing secret (the
 * lab's first connection). Stored: the credential's digest (it is the lab's callback token) and the
 * sealed signing secret; the token can never be used again.
 * @throws AppError UNAUTHENTICATED when the token is unknown or was used already
 */
export async function redeemEnrollment(db: FrontendDb, token: string): Promise<TEnrollResponse> {
  const credential = randomBytes(32).toString("base64url");
  const signingSecret = randomBytes(32).toString("base64url");
  const lab = await redeemEnrollmentToken(db, tokenDigest(token), callbackTokenDigest(credential), sealSecret(signingSecret));
  if (!lab)
    throw new AppError("UNAUTHENTICATED", {
      message: "Enrollment token unknown or already used (issue a new one with `npm run labs -- enroll NAME`)",
    });
  return { lab: lab.name, credential, signing_secret: signingSecret };
}
