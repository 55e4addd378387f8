import type { FrontendDb } from "../client.ts";
import { frontendQuery } from "../direct-sql.ts";
import { LAB_KINDS, type TInstanceConfig, type TInstanceRecord, type TLabKind } from "../dto.ts";

/** The stored lab row fields a record is made of. */
interface InstanceRow {
  id: number;
  name: string;
  kind: string;
  url: string | null;
  api_token: string;
  callback_token: string;
  callback_secret: string | null;
  callback_token_name: string | null;
  enrollment_token_hash: string | null;
  enrolled_at: Date | null;
  last_contact_at: Date | null;
}

/** A lab row as a {@link TInstanceRecord} (url without trailing slash; unknown kinds read as "magma"). */
export function instanceRecord(i: InstanceRow): TInstanceRecord {
  return {
    id: i.id,
    name: i.name,
    kind: (LAB_KINDS as readonly string[]).includes(i.kind) ? (i.kind as TLabKind) : "magma",
    url: i.url === null ? null : i.url.replace(/\/+$/, ""),
    enrolledAt: i.enrolled_at?.toISOString() ?? null,
    enrollmentPending: i.enrollment_token_hash !== null,
    lastContactAt: i.last_contact_at?.toISOString() ?? null,
    apiToken: i.api_token,
    callbackToken: i.callback_token,
    callbackSecret: i.callback_secret,
    callbackTokenName: i.callback_token_name,
  };
}

/**
 * Creates or updates each configured lab by name (kind, url, tokens and callback secret are overwritten). Labs missing
 * from the list are kept: their jobs stay browsable.
 * @returns the stored labs, in the order given
 */
export async function upsertInstances(db: FrontendDb, labs: readonly TInstanceConfig[]): Promise<TInstanceRecord[]> {
  const out: TInstanceRecord[] = [];
  for (const l of labs) {
    const data = {
      kind: l.kind ?? "magma",
      url: l.url.replace(/\/+$/, ""),
      api_token: l.api_token,
      callback_token: l.callback_token,
      callback_secret: l.callback_secret ?? null,
      callback_token_name: l.callback_token_name ?? null,
    };
    out.push(instanceRecord(await db.instance.upsert({ where: { name: l.name }, create: { name: l.name, ...data }, update: data })));
  }
  return out;
}

/**
 * Creates one lab (`labs add`).
 * @returns the stored lab, or null when a lab of that name exists already
 */
export async function createInstance(db: FrontendDb, l: TInstanceConfig): Promise<TInstanceRecord | null> {
  const { count } = await db.instance.createMany({
    data: [
      {
        name: l.name,
        kind: l.kind ?? "magma",
        url: l.url.replace(/\/+$/, ""),
        api_token: l.api_token,
        callback_token: l.callback_token,
        callback_secret: l.callback_secret ?? null,
        callback_token_name: l.callback_token_name ?? null,
      },
    ],
    skipDuplicates: true,
  });
  return count === 1 ? findInstanceByName(db, l.name) : null;
}

/**
 * Issues an enrollment for an outbound-only Magma lab (`labs enroll`): creates the lab without a URL
 * when it does not exist, or turns an existing one outbound (its URL is dropped), and stores the
 * SHA-256 of the new one-time token (an earlier unused token stops working). `placeholderToken` is
 * stored as the callback token until the lab enrolls (a digest nobody knows the preimage of).
 * @returns the lab
 */
export async function setEnrollmentToken(
  db: FrontendDb,
  name: string,
  tokenHash: string,
  placeholderToken: string,
): Promise<TInstanceRecord> {
  const data = { kind: "magma", url: null, enrollment_token_hash: tokenHash };
  return instanceRecord(
    await db.instance.upsert({
      where: { name },
      create: { name, ...data, api_token: "", callback_token: placeholderToken },
      update: data,
    }),
  );
}

/**
 * Redeems a one-time enrollment token (compare-and-set on its hash, so two concurrent redemptions
 * cannot both win): stores the lab credential's digest as the callback token, the sealed signing
 * secret, enrolled_at and last_contact_at, and clears the token hash.
 * @returns the enrolled lab, or null when no lab has that token hash (unknown or already used)
 */
export async function redeemEnrollmentToken(
  db: FrontendDb,
  tokenHash: string,
  credentialDigest: string,
  sealedSigningSecret: string,
  now = new Date(),
): Promise<TInstanceRecord | null> {
  const lab = await db.instance.findUnique({ where: { enrollment_token_hash: tokenHash }, select: { id: true } });
  if (!lab) return null;
  const { count } = await db.instance.updateMany({
    where: { id: lab.id, enrollment_token_hash: tokenHash },
    data: {
      enrollment_token_hash: null,
      enrolled_at: now,
      last_contact_at: now,
      callback_token: credentialDigest,
      callback_secret: sealedSigningSecret,
    },
  });
  if (count !== 1) return null;
  const row = await db.instance.findUnique({ where: { id: lab.id } });
  return row ? instanceRecord(row) : null;
}

/** Records that lab `id` was heard from now (outbound link, callback). */
export async function touchInstance(db: FrontendDb, id: number, now = new Date()): Promise<void> {
  await db.instance.update({ where: { id }, data: { last_contact_at: now } });
}

/**
 * Deletes a lab (`labs remove`) with what is stored for it (its federated jobs, results and
 * submission targets go too: the foreign keys cascade).
 * @returns false when no lab has that name
 */
export async function deleteInstance(db: FrontendDb, name: string): Promise<boolean> {
  const { count } = await db.instance.deleteMany({ where: { name } });
  return count === 1;
}

/** All labs, by name. */
export async function listInstances(db: FrontendDb): Promise<TInstanceRecord[]> {
  return (await db.instance.findMany({ orderBy: { name: "asc" } })).map(instanceRecord);
}

/** The lab called `name`, or null. */
export async function findInstanceByName(db: FrontendDb, name: string): Promise<TInstanceRecord | null> {
  // every callback reads its lab twice (receiver, consumer): one prepared statement on the pg pool
  const [i] = await frontendQuery<InstanceRow>(
    db,
    "magma_instance_by_name",
    `SELECT id, name, kind, url, api_token, callback_token, callback_secret, callback_token_name, enrollment_token_hash,
            enrolled_at, last_contact_at
     FROM instance WHERE name = $1`,
    [name],
  );
  return i ? instanceRecord(i) : null;
}

/**
 * Records a signed callback's delivery id for the replay window, pruning ids older than the window.
 * @returns false when the id was already recorded (a replay)
 */
export async function recordCallbackDelivery(
  db: FrontendDb,
  instanceId: number,
  deliveryId: string,
  windowMs: number,
  now = new Date(),
): Promise<boolean> {
  // one round trip: prune and record (timestamps are UTC without time zone, as Prisma's DateTime);
  // once per signed callback, so a prepared statement on the pg pool
  const rows = await frontendQuery<{ n: number }>(
    db,
    "magma_record_callback_delivery",
    `WITH pruned AS (
       DELETE FROM callback_delivery WHERE received_at < ($1::timestamptz AT TIME ZONE 'UTC')
     ), ins AS (
       INSERT INTO callback_delivery (instance_id, delivery_id, received_at)
       VALUES ($2, $3, ($4::timestamptz AT TIME ZONE 'UTC'))
       ON CONFLICT (instance_id, delivery_id) DO NOTHING
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM ins`,
    [new Date(now.getTime() - windowMs).toISOString(), instanceId, deliveryId, now.toISOString()],
  );
  return rows[0]?.n === 1;
}

/** Forgets a delivery id (its callback could not be queued: the lab's retry must be accepted). */
export async function forgetCallbackDelivery(db: FrontendDb, instanceId: number, deliveryId: string): Promise<void> {
  await db.callbackDelivery.deleteMany({ where: { instance_id: instanceId, delivery_id: deliveryId } });
}
